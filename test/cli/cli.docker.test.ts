import { describe, expect, it } from 'vitest';
import { fixtureTag, imageId, nfhotContainers, runIn } from '../helpers/docker.js';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { greetRepo, tempDir } from '../helpers/repos.js';
import { writeSyntheticPipeline } from '../fixtures/pipelines/synthetic.mjs';
import { NO_STACK, nfhot } from '../helpers/cli.js';

describe('the nfhot command', () => {
  it('answers --version and --help on every command', async () => {
    const version = await nfhot(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
    for (const command of [[], ['patch'], ['rollback'], ['push'], ['status'], ['config'], ['shim'], ['resolve']]) {
      const help = await nfhot([...command, '--help']);
      expect(help.exitCode, command.join(' ')).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^nfhot ${command[0] ?? '<command>'}[ \\n]`)); // its own page, not the top level's
    }
  });

  it.each([
    [['frobnicate'], /^nfhot: error: Unknown argument: frobnicate$/m],
    [['patch'], /Not enough non-option arguments/],
    [['patch', 'pkg@', '--image', 'x:y'], /invalid ref ""/],
    [['patch', 'git+@x', '--image', 'x:y'], /no repository URL/],
    [['patch', './nope', '--image', 'x:y'], /no such directory/],
    [['patch', 'pkg@main'], /no image to patch/],
    [['patch', 'pkg@main', '--image', 'x:y', '--bogus'], /Unknown argument/],
    [['rollback'], /no image to roll back/],
  ])('refuses %j as a usage error: exit 2, one clear line, no stack', async (args, message) => {
    const result = await nfhot(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^nfhot: error: /m);
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('says how to start the daemon when it does not answer', async () => {
    const result = await nfhot(['status'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/cannot reach the Docker daemon at tcp:\/\/127\.0\.0\.1:1/);
    expect(result.stderr).toMatch(/hint: /);
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('says that an ssh:// DOCKER_HOST is not supported', async () => {
    const result = await nfhot(['status'], { env: { DOCKER_HOST: 'ssh://user@127.0.0.1' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/ssh:\/\/ DOCKER_HOST .* not supported/);
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('fails with exit 1 and a one-line reason for a missing image, and prints one JSON document with --json', async () => {
    const repo = await greetRepo();
    const result = await nfhot([
      'patch',
      `git+${repo.url}@feature`,
      '--image',
      'nfhot-test-missing/none:dev',
      '--json',
    ]);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: 'image nfhot-test-missing/none:dev is not in the local Docker daemon',
      hint: 'pull or build it first (docker pull nfhot-test-missing/none:dev)',
    });
    const lines = result.stderr.split('\n').filter(Boolean);
    const from = lines.findIndex((l) => l.startsWith('nfhot: error: '));
    expect(lines.slice(from)).toEqual([
      'nfhot: error: image nfhot-test-missing/none:dev is not in the local Docker daemon',
      '  hint: pull or build it first (docker pull nfhot-test-missing/none:dev)',
    ]);
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('patches, reports, resolves and rolls back, with results on stdout and progress on stderr', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    const env = { NFHOT_CACHE: process.env.NFHOT_CACHE };

    const patched = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image, '--json'], { env });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const result = JSON.parse(patched.stdout);
    expect(result.images[0]).toMatchObject({ image, action: 'built' });
    expect(patched.stderr).toMatch(/pip\| nfhot: built greet-1\.1\.0-py3-none-any\.whl/);
    expect(patched.stderr).toMatch(/^nfhot: .*: loading the layer \(\d+ files, [\d.]+ [kM]B\) done/m);
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');

    const plain = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image], { env });
    expect(plain.stdout).toBe(result.images[0].derivative);

    const status = await nfhot(['status', '--json']);
    expect(JSON.parse(status.stdout).images.find((s: { image: string }) => s.image === image)).toMatchObject({
      state: 'patched',
      derivative: result.images[0].derivative,
    });
    expect((await nfhot(['status'])).stdout).toContain(`${image}  patched`);
    expect((await nfhot(['resolve', image])).stdout).toBe(result.images[0].derivative);

    const rolledBack = await nfhot(['rollback', image, '--json']);
    expect(JSON.parse(rolledBack.stdout)).toEqual({ images: [{ image, action: 'rolledBack', original: originalId }] });
    expect(await imageId(image)).toBe(originalId);
    expect((await nfhot(['resolve', image])).stdout).toBe(image);
  });

  it('cleans up and exits non-zero on Ctrl-C during pip', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    const child = nfhot(['patch', `git+${repo.url}@feature`, '--image', image]);
    // One Ctrl-C (a second one quits at once, by design): when pip's first line shows.
    let sent = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      if (!sent && chunk.toString().includes('pip|')) sent = child.kill('SIGINT');
    });
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/interrupted by SIGINT; nothing was tagged/);
    expect(await imageId(image)).toBe(originalId);
    expect(await nfhotContainers(image)).toEqual([]);
  });

  it('checks its model against what `nextflow inspect` reports: the processes as 24.10 lists them, the definitions as 25.04 and later do', async () => {
    /** A stand-in nextflow of this version that prints `inspected` as `nextflow inspect -format json` does, and records how it was called. */
    const fake = (version: string, inspected: { name: string; container: string }[]) => {
      const bin = tempDir('nfhot-fake-nextflow-');
      writeFileSync(
        join(bin, 'nextflow'),
        `#!/bin/sh\nif [ "$1" = -version ]; then echo '      version ${version} build 5947'; exit 0; fi\nprintf '%s %s\\n' "$NXF_SYNTAX_PARSER" "$*" > "${bin}/args"\necho 'N E X T F L O W  ~  version ${version}'\necho '${JSON.stringify({ processes: inspected })}'\n`,
      );
      chmodSync(join(bin, 'nextflow'), 0o755);
      return bin;
    };
    const check = (bin: string, ...args: string[]) =>
      nfhot(['config', '--pipeline', 'examples', '--check', '--dry-run', '--json', ...args], {
        env: { PATH: `${bin}:${process.env.PATH}` },
      });
    const old = fake('24.10.6', [
      { name: 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC', container: 'quay.io/biocontainers/seqstats:1.0.0--nfhot0' },
      { name: 'NFHOT_EXAMPLE:SEQSTATS:COUNT_LINES', container: 'quay.io/other:1' },
    ]);
    const result = await check(old);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(join(old, 'args'), 'utf8')).toMatch(/^v1 inspect -format json -profile docker \S*examples\n$/);
    expect(JSON.parse(result.stdout).check).toEqual({
      agree: 1,
      differences: [
        'NFHOT_EXAMPLE:SEQSTATS:COUNT_LINES: Nextflow says quay.io/other:1, nfhot says quay.io/biocontainers/coreutils:9.1--nfhot0',
        "NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC_UPPER: in nfhot's model, not in what Nextflow runs",
        "NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_VERSION: in nfhot's model, not in what Nextflow runs",
      ],
    });
    expect(result.stderr).toContain(
      "nextflow inspect agrees on 1 process(es); 3 difference(s) (compared with Nextflow 24.10.6's first parser (v1: the default of Nextflow 24.10.6))",
    );

    // 26.04 lists each definition by its simple name, parses strictly by default, and is given the run's params.
    const current = fake('26.04.2', [
      { name: 'SEQSTATS_GC', container: 'quay.io/biocontainers/seqstats:1.0.0--nfhot0' },
      { name: 'SEQSTATS_VERSION', container: 'quay.io/biocontainers/seqstats:1.0.0--nfhot0' },
      { name: 'COUNT_LINES', container: 'quay.io/other:1' },
    ]);
    const strict = await check(current, '--param', 'outdir=out');
    expect(strict.exitCode, strict.stderr).toBe(0);
    expect(readFileSync(join(current, 'args'), 'utf8')).toMatch(
      /^v2 inspect -format json -profile docker --outdir out \S*examples\n$/,
    );
    expect(JSON.parse(strict.stdout).check).toEqual({
      agree: 2,
      differences: [
        'COUNT_LINES: Nextflow says quay.io/other:1, nfhot says quay.io/biocontainers/coreutils:9.1--nfhot0',
      ],
    });
    expect(strict.stderr).toContain(
      "read as Nextflow 26.04.2's strict parser (v2: the default of Nextflow 26.04.2) reads it, with the run's params outdir",
    );
    expect(strict.stderr).toContain('nextflow inspect agrees on 2 process definition(s); 1 difference(s)');
    // Without nextflow the preflight is nfhot's own reading, said so; nothing patched here: exit 0.
    const missing = await nfhot(['config', '--pipeline', 'examples', '--check', '--dry-run'], {
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(missing.exitCode, missing.stderr).toBe(0);
    expect(missing.stderr).toMatch(/nextflow is not on PATH: the preflight is nfhot's reading of the pipeline/);
  });

  it('prints a large JSON document whole into a pipe', async () => {
    const dir = tempDir('nfhot-500-');
    writeSyntheticPipeline(dir, 500);
    const result = await nfhot(['config', '--pipeline', dir, '--dry-run', '--json']);
    expect(result.stdout.length).toBeGreaterThan(200_000);
    expect(JSON.parse(result.stdout).model.instances).toHaveLength(500);
  });
});
