// The debug loop against the real daemon: rerun a task from its work directory (written in the
// shape Nextflow writes it) with the patch, a shell in the patched image, what the patch changed,
// and lines that make it permanent in the real build.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { docker, fixtureTag, runIn } from '../helpers/docker.js';
import { writeTask } from '../helpers/nextflow-task.js';
import { writePipeline } from '../helpers/pipeline.js';
import { startRegistry } from '../helpers/registry.js';
import { addVariant, git, greetRepo, otherRepo, tempDir } from '../helpers/repos.js';

/** Every file of a directory with its content and mtime (links: their target): to tell it was left alone. */
function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name));
    out[name] = st.isSymbolicLink() ? `link` : `${st.mtimeMs}:${readFileSync(join(dir, name), 'utf8')}`;
  }
  return out;
}

/** Runs a task directory as Nextflow's local executor does: bash .command.run in it. */
const runAsNextflow = (dir: string) => execa('bash', ['.command.run'], { cwd: dir, reject: false });

async function patched(source: string, image: string, ...more: string[]): Promise<string> {
  const r = await nfhot(['patch', source, '--image', image, '--json', ...more]);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { images: { derivative: string }[] }).images[0]!.derivative;
}

interface Rerun {
  exitCode: number;
  stderr: string;
  json: { patched: boolean; reference: string; ranIn: string; exitCode: number; outputs: string[]; name?: string };
}

async function rerun(...args: string[]): Promise<Rerun> {
  const r = await nfhot(['rerun', ...args, '--json']);
  return { exitCode: r.exitCode!, stderr: r.stderr, json: JSON.parse(r.stdout || '{}') as Rerun['json'] };
}

describe('nfhot rerun', () => {
  it('runs a task that failed under the original with the patch: exit codes both ways, outputs in a copy, the work dir untouched; --in-place', async () => {
    const [image, repo] = await Promise.all([fixtureTag('venv'), greetRepo()]);
    const root = tempDir();
    const data = join(root, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'names.txt'), 'ada\ngrace\n');
    // The task as nf-core's docker profile runs it as a uid the image does not know; its directory open to it.
    const task = writeTask({
      work: join(root, 'work'),
      name: 'GREET (ada)',
      image,
      script: 'greet > greeting.txt\nid -u > uid.txt\ncat names.txt > copy.txt\ngrep -q feature greeting.txt',
      inputs: { 'names.txt': join(data, 'names.txt') },
      mounts: [data],
      runOptions: '-u 4321:4321',
    });
    chmodSync(task.dir, 0o777);
    const nextflow = await runAsNextflow(task.dir);
    expect(nextflow.exitCode).toBe(1);
    expect(readFileSync(join(task.dir, 'greeting.txt'), 'utf8')).toBe('greet 1.0.0 original\n');
    const before = snapshotDir(task.dir);

    // Not patched yet: the task runs with the image as it is, and fails again.
    const unpatched = await rerun(task.dir);
    expect(unpatched.exitCode).toBe(1);
    expect(unpatched.json).toMatchObject({ patched: false, reference: image, exitCode: 1 });
    expect(unpatched.stderr).toContain(`${image} is not patched`);
    expect(unpatched.stderr).toMatch(/the task failed with exit code 1/);

    const derivative = await patched(`git+${repo.url}@feature`, image);
    const fixed = await rerun(task.dir);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(fixed.json).toMatchObject({ patched: true, reference: derivative, exitCode: 0, name: 'GREET (ada)' });
    expect(fixed.json.ranIn).not.toBe(task.dir);
    expect(fixed.json.outputs).toEqual(['copy.txt', 'greeting.txt', 'uid.txt']); // not the staged input
    const out = (f: string) => readFileSync(join(fixed.json.ranIn, f), 'utf8');
    expect([out('greeting.txt'), out('uid.txt'), out('copy.txt'), out('.exitcode')]).toEqual([
      'greet 1.1.0 feature\n',
      '4321\n',
      'ada\ngrace\n',
      '0',
    ]);
    expect(lstatSync(join(fixed.json.ranIn, 'names.txt')).isSymbolicLink()).toBe(true);
    // Nextflow's work dir: every file as it was (its failed outputs, its .exitcode, the wrapper).
    expect(snapshotDir(task.dir)).toEqual(before);
    expect(fixed.stderr).toContain(`the task passed with the patch (${derivative})`);
    // No container left behind: the wrapper removed it.
    expect(await docker('ps', '-a', '--filter', `ancestor=${derivative}`, '--format', '{{.Names}}')).toBe('');

    // --in-place: in Nextflow's directory, whose .exitcode a later -resume reads.
    const inPlace = await rerun(task.dir, '--in-place');
    expect(inPlace.exitCode, inPlace.stderr).toBe(0);
    expect(inPlace.json.ranIn).toBe(task.dir);
    expect(readFileSync(join(task.dir, 'greeting.txt'), 'utf8')).toBe('greet 1.1.0 feature\n');
    expect(readFileSync(join(task.dir, '.exitcode'), 'utf8')).toBe('0');
    expect(readFileSync(join(task.dir, '.command.run'), 'utf8')).toContain(`--name $NXF_BOXID ${image} `); // the wrapper itself unchanged
  });

  it('follows a task run with an earlier patch to the newest one (--keep-tag too), through the trace wrapper, with the task environment; --image', async () => {
    const [image, repo] = await Promise.all([fixtureTag('venv'), greetRepo()]);
    await addVariant(repo, 'second', '1.2.0');
    const first = await patched(`git+${repo.url}@feature`, image);
    // The pipeline ran with the include: the wrapper names the first patch's reference.
    const task = writeTask({
      work: join(tempDir(), 'my work'),
      image: first,
      trace: true,
      env: { GREETING_TARGET: 'planet-9' },
      script: 'greet > greeting.txt\necho "$GREETING_TARGET" > env.txt',
    });
    expect((await runAsNextflow(task.dir)).exitCode).toBe(0);
    // --keep-tag: the tag stays on the original; the task still gets the patch (as nfhot resolve gives it).
    const second = await patched(`git+${repo.url}@second`, image, '--keep-tag');
    expect(second).not.toBe(first);
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');

    const r = await rerun(task.dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ patched: true, reference: second });
    expect(readFileSync(join(r.json.ranIn, 'greeting.txt'), 'utf8')).toBe('greet 1.2.0 second\n');
    expect(readFileSync(join(r.json.ranIn, 'env.txt'), 'utf8')).toBe('planet-9\n');
    expect(existsSync(join(r.json.ranIn, '.command.trace'))).toBe(true); // the copy's wrapper ran inside the container

    const other = await fixtureTag('venv', 'other');
    const explicit = await rerun(task.dir, '--image', other);
    expect(explicit.json).toMatchObject({ patched: false, reference: other });
    expect(readFileSync(join(explicit.json.ranIn, 'greeting.txt'), 'utf8')).toBe('greet 1.0.0 original\n');
  });

  it('Ctrl-C stops the task as Nextflow does (docker stop), its container removed', async () => {
    const image = await fixtureTag('venv');
    const task = writeTask({
      work: join(tempDir(), 'work'),
      image,
      script: 'echo started\necho on-stderr >&2\nsleep 120',
    });
    const child = nfhot(['rerun', task.dir]);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    while (!out.includes('started')) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(143); // the task's status: its container was stopped
    expect(r.stderr).toContain('the task was stopped (exit code 143)');
    expect(r.stderr).not.toContain('came too late');
    // The task's own streams, as they came (the wrapper's tee swaps them; nfhot swaps them back).
    expect(r.stdout.split('\n')[0]).toBe('started');
    expect(r.stderr).toContain('on-stderr');
    expect(r.stdout).not.toContain('on-stderr');
    expect(await docker('ps', '-a', '--filter', `ancestor=${image}`, '--format', '{{.Names}}')).toBe('');
  });

  it('says what a directory is when it is not a task it can rerun', async () => {
    const root = tempDir();
    const say = async (dir: string) => {
      const r = await nfhot(['rerun', dir]);
      expect(r.exitCode).not.toBe(0);
      return r.stderr;
    };
    expect(await say(root)).toContain('is not a Nextflow task directory: it has no .command.run');
    const local = writeTask({ work: join(root, 'w'), image: 'x', script: 'true' });
    const text = readFileSync(join(local.dir, '.command.run'), 'utf8').replace(/^### container: .*\n/m, ''); // a task without a container
    writeFileSync(
      join(local.dir, '.command.run'),
      text.replace(/^ {4}docker run .*$/m, `    /bin/bash -ue ${local.dir}/.command.sh`),
    );
    expect(await say(local.dir)).toContain('did not run in a container');
    writeFileSync(
      join(local.dir, '.command.run'),
      text.replace(
        /^ {4}docker run .*$/m,
        `    set +u; env - PATH="$PATH" \${TMP:+SINGULARITYENV_TMP="$TMP"} singularity exec --no-home --pid -B ${local.dir} /sif/x.img /bin/bash -c "cd $NXF_TASK_WORKDIR; /bin/bash -ue ${local.dir}/.command.sh"`,
      ),
    );
    expect(await say(local.dir)).toContain('ran under Singularity/Apptainer, not Docker or Podman');
    const podman = writeTask({ work: join(root, 'w'), engine: 'podman', image: 'x', script: 'true' });
    expect(await say(podman.dir)).toContain('ran under Podman, and nfhot is talking to Docker');
    writeFileSync(join(local.dir, '.command.run'), '#!/bin/bash\necho hi\n');
    expect(await say(local.dir)).toContain('is not a Nextflow task wrapper');
  });
});

describe('nfhot shell', () => {
  it('runs in the patched image through its entrypoint, the current directory mounted: stdin without a terminal, a pseudo-terminal, --as-task, exit codes', async () => {
    const [image, repo] = await Promise.all([fixtureTag('nonroot'), greetRepo()]);
    await patched(`git+${repo.url}@feature`, image);
    const here = tempDir();
    chmodSync(here, 0o777);
    const bin = join(process.cwd(), 'bin', 'nfhot.js');

    const piped = await execa('node', [bin, 'shell', image], {
      cwd: here,
      input: 'greet\npwd\nid -u\necho made > made-here.txt\n',
      reject: false,
    });
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stdout.split('\n')).toEqual(['entry as 1000:', 'greet 1.1.0 feature', here, '1000']);
    expect(readFileSync(join(here, 'made-here.txt'), 'utf8')).toBe('made\n');

    const asTask = await execa('node', [bin, 'shell', image, '--as-task', '--', 'sh', '-c', 'id -u; exit 7'], {
      cwd: here,
      reject: false,
    });
    expect(asTask.exitCode).toBe(7);
    expect(asTask.stdout.split('\n')).toEqual([`entry as ${process.getuid!()}:`, String(process.getuid!())]);

    // A terminal: `script` gives nfhot a pseudo-terminal; the container gets one too.
    const tty = await execa('script', ['-qec', `node ${bin} shell ${image}`, '/dev/null'], {
      cwd: here,
      input: 'tty\nexit 3\n',
      reject: false,
    });
    expect(tty.exitCode).toBe(3);
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
  });

  it('with no image, in a pipeline directory: its patched image; several: says which there are', async () => {
    const [a, b, repo, other] = await Promise.all([
      fixtureTag('venv'),
      fixtureTag('venv', 'b'),
      greetRepo(),
      otherRepo(),
    ]);
    const pipeline = writePipeline({ A: a, B: b });
    await patched(`git+${repo.url}@feature`, a);
    const bin = join(process.cwd(), 'bin', 'nfhot.js');
    const one = await execa('node', [bin, 'shell', '--', 'greet'], { cwd: pipeline, reject: false });
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toBe('greet 1.1.0 feature');
    await patched(`git+${other.url}@main`, b);
    const two = await execa('node', [bin, 'shell', '--', 'greet'], { cwd: pipeline, reject: false });
    expect(two.exitCode).toBe(2);
    expect(two.stderr).toContain('2 images are patched: name one');
    // On a terminal, it asks.
    const asked = await execa('script', ['-qec', `node ${bin} shell -- greet`, '/dev/null'], {
      cwd: pipeline,
      input: '2\n',
      reject: false,
    });
    expect(asked.exitCode, asked.stdout).toBe(0);
    expect(asked.stdout).toContain(`1) ${[a, b].sort()[0]}`);
    expect(asked.stdout).toContain('which one?');
    // The second in the list: `other` does not change what greet prints.
    expect(asked.stdout).toContain([a, b].sort()[1] === a ? 'greet 1.1.0 feature' : 'greet 1.0.0 original');
  });
});

interface Diff {
  packages: { name: string; before?: string; after?: string; source?: string; from?: string }[];
  files: { added: string[]; changed: string[]; removed: string[] };
}

describe('nfhot diff', () => {
  it('says each package before → after and its source, and the files added, changed and removed; for one package and for two', async () => {
    const [image, repo, other] = await Promise.all([fixtureTag('venv'), greetRepo(), otherRepo()]);
    await patched(`git+${repo.url}@feature`, image);
    const diff = async () => {
      const r = await nfhot(['diff', image, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Diff;
    };
    const site = '/opt/venv/lib/python3.11/site-packages';
    const one = await diff();
    expect(one.packages).toEqual([
      {
        name: 'greet',
        before: '1.0.0',
        after: '1.1.0',
        source: `git+${repo.url}@feature`,
        from: `commit ${(await repo.commit('feature')).slice(0, 12)}`,
      },
    ]);
    expect(one.files.changed).toContain(`${site}/greet/__init__.py`);
    expect(one.files.added).toContain(`${site}/greet-1.1.0.dist-info/METADATA`);
    expect(one.files.removed).toContain(`${site}/greet-1.0.0.dist-info/METADATA`);
    expect(one.files.changed).not.toContain(`/opt/venv/bin/greet`); // the same console script

    await patched(`git+${other.url}@main`, image);
    const two = await diff();
    expect(two.packages.map((p) => [p.name, p.before, p.after])).toEqual([
      ['greet', '1.0.0', '1.1.0'],
      ['other', undefined, '0.1.0'],
    ]);
    expect(two.files.added).toContain(`${site}/other/__init__.py`);
    expect(two.files.changed).toEqual(one.files.changed);

    const human = await nfhot(['diff', image]);
    expect(human.stdout).toContain('greet 1.0.0 → 1.1.0  from git+');
    expect(human.stdout).toContain('other (none) → 0.1.0');
    expect(human.stdout).toContain(`  M ${site}/greet/__init__.py`);
    expect((await nfhot(['diff', await fixtureTag('venv', 'plain')])).stderr).toContain('is not patched');
  });
});

describe('nfhot export', () => {
  it('prints a requirement pinned to the commit that installs the same code into the original', async () => {
    const [image, repo] = await Promise.all([fixtureTag('venv'), greetRepo()]);
    const derivative = await patched(`git+${repo.url}@feature`, image);
    const commit = await repo.commit('feature');
    const r = await nfhot(['export', image, '--format', 'requirements']);
    expect(r.exitCode, r.stderr).toBe(0);
    const line = r.stdout.split('\n').filter((l) => !l.startsWith('#'));
    expect(line).toEqual([`greet @ git+file://localhost${repo.dir}@${commit}`]);
    const dockerfile = (await nfhot(['export', image])).stdout;
    expect(dockerfile).toContain(`# the original has no registry digest`);
    expect(dockerfile).toContain(`FROM ${image}`);
    expect(dockerfile).toContain(
      `RUN /opt/venv/bin/python3 -m pip install --no-cache-dir --force-reinstall --no-deps \\\n      'greet @ git+file://localhost${repo.dir}@${commit}' \\\n && /opt/venv/bin/python3 -m pip install --no-cache-dir \\\n      'greet @ git+file://localhost${repo.dir}@${commit}'`,
    );
    expect((await nfhot(['export', image, '--format', 'conda'])).stdout).toContain(
      `  - pip:\n      - "greet @ git+file://localhost${repo.dir}@${commit}"`,
    );

    // The line, as it is, into a fresh container of the original (pip's git is the host's; offline, so no build isolation).
    const original = await docker(
      'image',
      'inspect',
      derivative,
      '--format',
      '{{index .Config.Labels "io.nfhot.original"}}',
    );
    const git = [
      '-v',
      '/usr/bin/git:/usr/bin/git:ro',
      '-v',
      '/usr/lib/git-core:/usr/lib/git-core:ro',
      '-e',
      'GIT_CONFIG_COUNT=1',
      '-e',
      'GIT_CONFIG_KEY_0=safe.directory',
      '-e',
      'GIT_CONFIG_VALUE_0=*',
    ];
    const built = await docker(
      'run',
      '--rm',
      ...git,
      '-v',
      `${repo.dir}:${repo.dir}:ro`,
      original,
      'sh',
      '-c',
      `pip install -q --no-cache-dir --no-build-isolation '${line[0]}' >&2 && greet`,
    );
    expect(built).toBe(await runIn(derivative, 'greet'));
  });

  it('a working copy: its published commit, or says there is none; --sdist writes the tree and a Dockerfile that docker build makes into the same code, FROM the original pinned by digest', async () => {
    const [image, registry] = await Promise.all([fixtureTag('venv'), startRegistry()]);
    onTestFinished(() => registry.stop());
    // The original as pulled from a registry: it has a digest.
    const remote = `${registry.host}/${image}`;
    await docker('tag', image, remote);
    await docker('push', remote);
    onTestFinished(() => void docker('rmi', remote).catch(() => undefined));
    const digest = (
      JSON.parse(await docker('image', 'inspect', image, '--format', '{{json .RepoDigests}}')) as string[]
    )[0]!;

    const repo = await greetRepo();
    const bare = join(tempDir(), 'greet.git');
    await git(repo.dir, 'clone', '-q', '--bare', repo.dir, bare);
    const wc = join(tempDir(), 'wc');
    await execa('git', ['clone', '-q', bare, wc]);
    writeFileSync(
      join(wc, 'src/greet/__init__.py'),
      '__version__ = "1.0.0"\nVARIANT = "pushed"\n\n\ndef main() -> None:\n    print(f"greet {__version__} {VARIANT}")\n',
    );
    await git(wc, '-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-qam', 'pushed');
    await git(wc, 'push', '-q', 'origin', 'main');
    await patched(wc, image);
    const pinned = await nfhot(['export', image, '--format', 'requirements']);
    expect(pinned.exitCode, pinned.stderr).toBe(0);
    expect(pinned.stdout).toContain(`greet @ git+file://localhost${bare}@${await git(wc, 'rev-parse', 'HEAD')}`);

    writeFileSync(
      join(wc, 'src/greet/__init__.py'),
      '__version__ = "1.0.0"\nVARIANT = "uncommitted"\n\n\ndef main() -> None:\n    print(f"greet {__version__} {VARIANT}")\n',
    );
    const derivative = await patched(wc, image);
    const refused = await nfhot(['export', image]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('had uncommitted changes');
    expect(refused.stderr).toContain('there is no commit to pin');
    expect(refused.stderr).toContain('--sdist DIR');

    const out = tempDir();
    const exported = await nfhot(['export', image, '--sdist', out]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['Dockerfile', 'greet-1.0.0.tar.gz']);
    expect(exported.stdout).toContain(`FROM ${digest}`);
    expect(readFileSync(join(out, 'Dockerfile'), 'utf8')).toBe(`${exported.stdout}\n`);
    // Offline: no build isolation (it would fetch setuptools); otherwise the Dockerfile as written.
    writeFileSync(
      join(out, 'Dockerfile'),
      exported.stdout.replaceAll('pip install', 'pip install --no-build-isolation'),
    );
    const tag = `${image.split(':')[0]}:exported`;
    await execa('docker', ['build', '-q', '-t', tag, out], { env: { DOCKER_BUILDKIT: '0' } });
    expect(await runIn(tag, 'greet')).toBe('greet 1.0.0 uncommitted');
    expect(await runIn(tag, 'greet')).toBe(await runIn(derivative, 'greet'));
  });
});
