import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { config } from '../../src/commands/config.js';
import { patch } from '../../src/commands/patch.js';
import { resolve } from '../../src/commands/resolve.js';
import { rollback } from '../../src/commands/rollback.js';
import { status } from '../../src/commands/status.js';
import { testContext } from '../helpers/context.js';
import { fixtureTag, imageId, runIn } from '../helpers/docker.js';
import { writePipeline } from '../helpers/pipeline.js';
import { greetRepo, tempDir } from '../helpers/repos.js';

const include = (dir: string) => readFileSync(join(dir, 'nfhot.config'), 'utf8');
/** The reference nfhot.config gives a process's selector block, or undefined. */
const referenceIn = (text: string) => /\? '([^']+)' :/.exec(text)?.[1];

/** A task run the way Nextflow's DockerBuilder runs it, as a non-root uid, with a .command.sh. */
async function replayTask(image: string, script: string): Promise<string> {
  const root = tempDir('nfhot-task-');
  const wd = join(root, 'work', 'ab', 'cdef0123456789');
  mkdirSync(wd, { recursive: true });
  writeFileSync(join(wd, '.command.sh'), `#!/bin/bash -ue\n${script}\n`);
  chmodSync(root, 0o777);
  for (const d of [join(root, 'work'), join(root, 'work', 'ab'), wd]) chmodSync(d, 0o777);
  const name = `nxf-${Math.random().toString(16).slice(2, 18)}`;
  try {
    const run = await execa(
      'docker',
      [
        'run',
        '-i',
        '-e',
        'NXF_TASK_WORKDIR',
        '-v',
        `${wd}:${wd}`,
        '-w',
        wd,
        '-u',
        '4242:4242',
        '--name',
        name,
        image,
        '/bin/bash',
        '-ue',
        join(wd, '.command.sh'),
      ],
      {
        env: { NXF_TASK_WORKDIR: wd },
        input: '',
      },
    );
    return run.stdout.trim();
  } finally {
    await execa('docker', ['rm', '-f', name], { reject: false });
  }
}

describe('nfhot and a pipeline', () => {
  it("patches, with no --image, the pipeline's images that have the package, and says why it skipped the others", async () => {
    const venv = await fixtureTag('venv');
    const conda = await fixtureTag('conda');
    const nopython = await fixtureTag('nopython');
    const dir = writePipeline(
      {
        GREET: venv,
        CONDA_GREET: conda,
        NO_PYTHON: nopython,
        MISSING: 'nfhot-test-missing/none:1',
        DYNAMIC: '"${params.registry}/greet:1"',
      },
      { GREET_AGAIN: 'GREET' },
    );
    const repo = await greetRepo();
    const ctx = testContext();
    const result = await patch({ source: `git+${repo.url}@feature`, images: [], pipeline: dir }, ctx);

    expect(result.images.map((r) => r.image).sort()).toEqual([conda, venv].sort());
    expect([...result.skipped!].sort((a, b) => a.image.localeCompare(b.image))).toEqual(
      [
        { image: nopython, why: 'it has no greet' },
        { image: 'nfhot-test-missing/none:1', why: 'not in the local Docker daemon (pull or build it to patch it)' },
      ].sort((a, b) => a.image.localeCompare(b.image)),
    );
    expect(ctx.lines.join('')).toMatch(
      /PIPE:DYNAMIC: container "\$\{params.registry\}\/greet:1" .*: it depends on params.registry \(no config sets it\); if it runs greet, name its image with --image/,
    );
    expect(await runIn(venv, 'greet')).toBe('greet 1.1.0 feature');

    const text = include(dir);
    const venvRef = result.images.find((r) => r.image === venv)!.derivative;
    expect(text).toContain(`withName: '(?:.*:)?(?:GREET|GREET_AGAIN)' {`);
    expect(text).toContain(`? '${venvRef}' : '${venv}' }`);
    expect(text).toContain(`withName: '(?:.*:)?(?:CONDA_GREET)' {`);
    expect(text).not.toContain('NO_PYTHON');
    expect(ctx.lines.join('')).toMatch(/add once at the end of nextflow.config: {2}includeConfig 'nfhot.config'/);
    expect(result.include).toMatchObject({ written: true, included: false });
  });

  it("gives a task, run as Nextflow runs it, the patched code: as a non-root uid, through the image's entrypoint", async () => {
    const image = await fixtureTag('nonroot');
    const dir = writePipeline({ GREET: image });
    const repo = await greetRepo();
    await patch({ source: `git+${repo.url}@feature`, images: [], pipeline: dir }, testContext());
    const reference = referenceIn(include(dir))!;
    expect(reference).toMatch(/^nfhot\.local\//);
    expect(
      await replayTask(
        reference,
        'id -u; greet; python3 -c "import greet, os; print(os.access(greet.__file__, os.R_OK))"',
      ),
    ).toBe('entry as 4242:\n4242\ngreet 1.1.0 feature\nTrue');
  });

  it('keeps -resume exact: the reference changes when, and only when, the patch set does', async () => {
    const image = await fixtureTag('venv');
    const dir = writePipeline({ GREET: image });
    const repo = await greetRepo();
    const refs: (string | undefined)[] = [];
    const derivatives: string[] = [];
    for (const ref of ['feature', 'feature', 'main', 'feature']) {
      derivatives.push(
        (await patch({ source: `git+${repo.url}@${ref}`, images: [], pipeline: dir }, testContext())).images[0]!
          .derivative,
      );
      refs.push(referenceIn(include(dir)));
    }
    // The same commit again: the cached results are reused; a new commit: the process re-runs;
    // back to the first: its cached results again.
    expect(refs).toEqual([derivatives[0], derivatives[0], derivatives[2], derivatives[0]]);
    expect(derivatives[2]).not.toBe(derivatives[0]);
    await rollback({ images: [image], pipeline: dir }, testContext());
    expect(referenceIn(include(dir))).toBeUndefined(); // the original name: the original results
    expect(include(dir)).toContain('this file overrides nothing');
  });

  it("preflight on nf-core's profiles: docker,wave uses the patch (the include switches Wave off), conda cannot, and --check says so with its exit code", async () => {
    const [image, repo] = await Promise.all([fixtureTag('venv'), greetRepo()]);
    const dir = writePipeline({ GREET: image });
    // The module and the profiles as nf-core's template has them (a conda environment beside the container).
    const module = join(dir, 'modules', 'greet', 'main.nf');
    writeFileSync(
      module,
      readFileSync(module, 'utf8').replace(
        "    label 'process_single'\n",
        '    label \'process_single\'\n    conda "${moduleDir}/environment.yml"\n',
      ),
    );
    writeFileSync(
      join(dir, 'nextflow.config'),
      [
        'profiles {',
        '    conda {\n        conda.enabled = true\n        docker.enabled = false\n    }',
        "    docker {\n        docker.enabled = true\n        conda.enabled = false\n        docker.runOptions = '-u $(id -u):$(id -g)'\n    }",
        "    wave {\n        wave.enabled = true\n        wave.freeze = true\n        wave.strategy = 'conda,container'\n    }",
        '}',
        '',
      ].join('\n'),
    );
    const cli = (...args: string[]) =>
      execa('node', [join(process.cwd(), 'bin', 'nfhot.js'), ...args], { cwd: dir, reject: false });
    const patched = await cli('patch', `git+${repo.url}@feature`, '--add-include', '--profile', 'docker,wave');
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(patched.stderr).toContain(
      "Wave is on with -profile docker,wave, and it cannot pull the patched images from this machine's daemon: the include switches it off",
    );

    const wave = await cli('config', '--check', '--profile', 'docker,wave');
    expect(wave.exitCode, wave.stderr).toBe(0);
    expect(wave.stdout).toContain('a run with -profile docker,wave (docker, Wave (conda,container)):');
    expect(wave.stdout).toMatch(
      /GREET {2}uses the patch: nfhot\.local\/\S+ \(Wave cannot pull an image from this machine's daemon: the include switches Wave off/,
    );
    // The pipeline's other profiles declared too, empty (-c nfhot.config under 25.04's strict parser).
    expect(include(dir)).toMatch(
      /\nprofiles \{\n {4}conda \{\n {4}\}\n {4}docker \{\n {4}\}\n {4}wave \{\n {8}wave\.enabled = false\n {4}\}\n\}\nwave\.enabled = false\n/,
    );

    // With nextflow on PATH, --check asks it how it resolves Wave with the include: still on here.
    const bin = tempDir('nfhot-fake-nextflow-');
    writeFileSync(
      join(bin, 'nextflow'),
      `#!/bin/sh\ncase "$1" in\n  inspect) echo '{"processes": []}' ;;\n  config) printf 'docker.enabled = true\\nwave.enabled = true\\n' ;;\nesac\n`,
    );
    chmodSync(join(bin, 'nextflow'), 0o755);
    const kept = await execa(
      'node',
      [join(process.cwd(), 'bin', 'nfhot.js'), 'config', '--check', '--profile', 'docker,wave'],
      { cwd: dir, reject: false, env: { PATH: `${bin}:${process.env.PATH}` } },
    );
    expect(kept.exitCode).toBe(1);
    expect(kept.stdout).toContain(
      'PIPE:GREET  does NOT use the patch (nextflow config says wave.enabled = true with the include: this Nextflow applies the profile after it; run with -c nfhot.config (or NXF_DISABLE_WAVE_SERVICE=1))',
    );

    const conda = await cli('config', '--check', '--profile', 'conda');
    expect(conda.exitCode).toBe(1);
    expect(conda.stdout).toContain(
      'PIPE:GREET  does NOT use the patch (it runs in a conda environment on the host: no container, so no patched image (-profile docker would run the patch))',
    );
    expect(conda.stderr).toContain(
      'nfhot: error: 1 patched process(es) would not get their patch in a run with -profile conda: PIPE:GREET',
    );
    expect(include(dir)).not.toContain('wave.enabled');

    const docker = await cli('config', '--check');
    expect(docker.exitCode, docker.stderr).toBe(0);
    expect(docker.stdout).toContain('a run with -profile docker (docker):');
    expect(docker.stderr).not.toContain('sets more after');
    // A setting after the include line could override it: said.
    writeFileSync(
      join(dir, 'nextflow.config'),
      `${readFileSync(join(dir, 'nextflow.config'), 'utf8')}process.container = 'x'\n`,
    );
    expect((await cli('config')).stderr).toContain(
      "nextflow.config sets more after includeConfig 'nfhot.config': a setting there can override the include (keep that line last)",
    );
  });

  it('adds the include line to nextflow.config once, when asked', async () => {
    const image = await fixtureTag('venv');
    const dir = writePipeline({ GREET: image });
    await config({ pipeline: dir, addInclude: true }, testContext());
    await config({ pipeline: dir, addInclude: true }, testContext());
    const text = readFileSync(join(dir, 'nextflow.config'), 'utf8');
    expect(text.match(/includeConfig 'nfhot.config'/g)).toHaveLength(1);
    expect(text.trimEnd().endsWith("includeConfig 'nfhot.config'")).toBe(true);
    expect(include(dir)).toContain('this file overrides nothing');
  });

  it('with --keep-tag leaves the tag on the original: the include, resolve and the docker shim run the patch', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const dir = writePipeline({ GREET: image });
    const repo = await greetRepo();
    const result = await patch(
      { source: `git+${repo.url}@feature`, images: [], pipeline: dir, keepTag: true },
      testContext(),
    );
    const reference = result.images[0]!.derivative;
    expect(await imageId(image)).toBe(originalId);
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
    expect(referenceIn(include(dir))).toBe(reference);
    expect(await resolve(image, testContext())).toBe(reference);
    expect((await status(testContext())).images.find((s) => s.image === image)).toMatchObject({
      state: 'patched',
      mode: 'keep-tag',
      currentId: originalId,
      derivative: reference,
    });

    // Another runner, calling plain `docker run`, through the shim.
    const { stdout: shim } = await execa('node', ['bin/nfhot.js', 'shim']);
    const path = /export PATH="([^"]+):\$PATH"/.exec(shim)![1]!;
    const runner = await execa('sh', ['-c', `docker run --rm -e X=1 --name "nfhot-test-runner-$$" ${image} greet`], {
      env: { PATH: `${path}:${process.env.PATH}` },
    });
    expect(runner.stdout).toBe('greet 1.1.0 feature');
    const exit = await execa('sh', ['-c', `docker run --rm ${image} sh -c 'exit 7'`], {
      env: { PATH: `${path}:${process.env.PATH}` },
      reject: false,
    });
    expect(exit.exitCode).toBe(7);

    // Patching without --keep-tag afterwards moves the tag; rolling back restores everything.
    await patch({ source: `git+${repo.url}@feature`, images: [], pipeline: dir }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    await rollback({ images: [image], pipeline: dir }, testContext());
    expect(await imageId(image)).toBe(originalId);
    expect(await resolve(image, testContext())).toBe(image);
  });
});
