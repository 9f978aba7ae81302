// nfhot watch as a user runs it: a working copy edited while the watcher runs, against the real daemon.
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { fixtureTag, imageId, nfhotContainers, runIn } from '../helpers/docker.js';
import { expectIncludesTrue } from '../helpers/includes.js';
import { writePipeline } from '../helpers/pipeline.js';
import { git, tempDir } from '../helpers/repos.js';

/** A git working copy of the test package whose greet prints `greet 1.0.0 <variant>`, with scratch/ ignored. */
async function workingCopy(): Promise<{ dir: string; say(variant: string): void; module: string }> {
  const dir = join(tempDir(), 'greet');
  cpSync('test/fixtures/greet', dir, { recursive: true });
  writeFileSync(join(dir, '.gitignore'), 'scratch/\n');
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'greet');
  const module = join(dir, 'src', 'greet', '__init__.py');
  const say = (variant: string) =>
    writeFileSync(
      module,
      `__version__ = "1.0.0"\nVARIANT = "${variant}"\n\n\ndef main() -> None:\n    print(f"greet {__version__} {VARIANT}")\n`,
    );
  return { dir, say, module };
}

/** `nfhot watch ARGS` in the background: its stdout lines (one reference per patch) and stderr as they come. */
function watcher(args: string[]) {
  const child = nfhot(['watch', ...args], { buffer: false });
  const lines: string[] = [];
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const until = async (what: string, ok: () => boolean, ms = 60_000) => {
    for (const end = Date.now() + ms; !ok(); await sleep(50)) {
      if (Date.now() > end) throw new Error(`nfhot watch: no ${what} within ${ms} ms; stderr:\n${stderr}`);
    }
  };
  return { child, lines, stderr: () => stderr, until };
}

describe('nfhot watch', () => {
  it('patches on save: a burst gives one or two patches, ignored files none, a broken save keeps the last good, the command runs once per patch', async () => {
    const image = await fixtureTag('venv');
    const wc = await workingCopy();
    const log = join(tempDir(), 'command.log');
    const w = watcher([
      wc.dir,
      '--image',
      image,
      '--',
      'sh',
      '-c',
      `echo start >> ${log}; sleep 1; echo end >> ${log}`,
    ]);
    try {
      await w.until('first patch', () => w.lines.length === 1);
      expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
      expect(await runIn(w.lines[0]!, 'greet')).toBe('greet 1.0.0 original');

      wc.say('first-edit');
      await w.until('patch of the edit', () => w.lines.length === 2);
      expect(await runIn(image, 'greet')).toBe('greet 1.0.0 first-edit');
      expect(w.stderr()).toMatch(/watch: patched in [\d.]+ s \(src\/greet\/__init__\.py changed\)/);

      // A burst of saves: the last one is live after one or two patches.
      for (const n of [1, 2, 3, 4, 5]) {
        wc.say(`burst-${n}`);
        await sleep(40);
      }
      await w.until('the last save of the burst live', () => w.lines.length >= 3);
      await sleep(2500); // a second patch, if any, has come by now
      expect(w.lines.length).toBeLessThanOrEqual(4);
      expect(await runIn(w.lines.at(-1)!, 'greet')).toBe('greet 1.0.0 burst-5');
      expect(await runIn(image, 'greet')).toBe('greet 1.0.0 burst-5');

      // What the package is not made from: no patch.
      const before = w.lines.length;
      mkdirSync(join(wc.dir, 'scratch'));
      writeFileSync(join(wc.dir, 'scratch', 'notes.py'), 'x = 1\n');
      writeFileSync(join(wc.dir, 'src', 'greet', '.__init__.py.swp'), 'swap');
      await sleep(2000);
      expect(w.lines.length).toBe(before);

      // A half-written module: the last good patch stays, and the next good save recovers.
      appendFileSync(wc.module, 'broken = (\n');
      await w.until('the failure said', () => /the patch failed; the last good one stays\. /.test(w.stderr()));
      expect(w.stderr()).toMatch(/greet\/__init__\.py:\d+: SyntaxError: .\(. was never closed/);
      expect(w.lines.length).toBe(before);
      expect(await runIn(image, 'greet')).toBe('greet 1.0.0 burst-5');
      wc.say('fixed');
      await w.until('the recovery', () => w.lines.length === before + 1);
      expect(await runIn(image, 'greet')).toBe('greet 1.0.0 fixed');
      await w.until(
        'the last command',
        () => readFileSync(log, 'utf8').trim().split('\n').length === 2 * w.lines.length,
      );
    } finally {
      w.child.kill('SIGINT');
    }
    const result = await w.child;
    expect(result.exitCode).toBe(130);
    expect(w.stderr()).toContain(
      `watch: stopped; the last good patch stays on ${image} (undo it with: nfhot rollback ${image})`,
    );
    // The command ran once after each patch, never two at once.
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(w.lines.flatMap(() => ['start', 'end']));
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 fixed');
    await expectIncludesTrue();
  });

  it("in a pipeline: the pipeline's images, the include rewritten each time, and rolled back on exit when asked", async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const pipeline = writePipeline({ GREET: image });
    const wc = await workingCopy();
    const w = watcher([wc.dir, '--pipeline', pipeline, '--rollback-on-exit']);
    try {
      await w.until('first patch', () => w.lines.length === 1);
      expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).toContain(w.lines[0]);
      wc.say('in-pipeline');
      await w.until('patch of the edit', () => w.lines.length === 2);
      const include = readFileSync(join(pipeline, 'nfhot.config'), 'utf8');
      expect(include).toContain(w.lines[1]);
      expect(include).not.toContain(w.lines[0]);
      expect(await runIn(w.lines[1]!, 'greet')).toBe('greet 1.0.0 in-pipeline');
    } finally {
      w.child.kill('SIGINT');
    }
    expect((await w.child).exitCode).toBe(130);
    expect(await imageId(image)).toBe(originalId);
    expect(readFileSync(join(pipeline, 'nfhot.config'), 'utf8')).not.toContain('nfhot.local/');
    await expectIncludesTrue();
  });

  it('killed (SIGKILL) while a patch is under way: the last good patch stays, and the next nfhot command cleans up', async () => {
    const image = await fixtureTag('venv');
    const wc = await workingCopy();
    const w = watcher([wc.dir, '--image', image]);
    await w.until('first patch', () => w.lines.length === 1);
    const good = await imageId(image);
    wc.say('never-finished');
    appendFileSync(join(wc.dir, 'pyproject.toml'), '# a change the install must run for\n');
    await w.until('the install under way', () =>
      /(changed|changes seen): patching[\s\S]*(installing|pip install) into/.test(w.stderr()),
    );
    w.child.kill('SIGKILL');
    await w.child;
    expect(await imageId(image)).toBe(good);
    const status = await nfhot(['status']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(await nfhotContainers(image)).toEqual([]);
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
    await expectIncludesTrue();
  });
});
