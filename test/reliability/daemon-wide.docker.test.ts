import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lockKey } from '../../src/core/image/lock.js';
import { includeReferences } from '../../src/core/pipeline/include.js';
import { keeperRef, parseImageRef } from '../../src/core/image/reference.js';
import { nfhot, stopped } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { writePipeline } from '../helpers/pipeline.js';
import { addGate, GATE, greetRepo, tempDir } from '../helpers/repos.js';

// Commands that act on a whole daemon — prunes remove every stopped container and dangling image,
// rollback --all every patched image — run on a daemon of the tests' own, never on the one the
// machine's other users (and the other tests) share.
let daemon: TestDaemon;
let n = 0;
beforeAll(async () => {
  daemon = await startTestDaemon('1g', [inject('images').venv!]);
});
afterAll(() => daemon?.stop());

const env = () => ({ DOCKER_HOST: daemon.host });
const dockerT = async (...args: string[]) => (await execa('docker', args, { env: env() })).stdout.trim();
const greet = (image: string) => dockerT('run', '--rm', image, 'greet');
async function image(): Promise<string> {
  const ref = `nfhot-test-daemon/venv:t${n++}`;
  await dockerT('tag', inject('images').venv!, ref);
  return ref;
}
/** The names of nfhot's containers for `ref` on the test daemon. */
const containersOf = async (ref: string) =>
  (await dockerT('ps', '-a', '--format', '{{.Names}}'))
    .split('\n')
    .filter((c) => c.startsWith('nfhot-') && c.includes(lockKey(ref)));

describe('prunes on the daemon while nfhot works', () => {
  it('leave a patched image and its original: rollback restores the exact original after docker image prune and docker system prune', async () => {
    const ref = await image();
    const originalId = await dockerT('image', 'inspect', '--format', '{{.Id}}', ref);
    const repo = await greetRepo();
    for (const branch of ['feature', 'main'])
      expect((await nfhot(['patch', `git+${repo.url}@${branch}`, '--image', ref], { env: env() })).exitCode).toBe(0);
    // Only nfhot's keeper tag names the original now: a prune must not take it.
    await dockerT('image', 'prune', '-f');
    await dockerT('system', 'prune', '-f');
    expect(await greet(ref)).toBe('greet 1.0.0 original');
    expect(await dockerT('image', 'inspect', '--format', '{{.Id}}', keeperRef(parseImageRef(ref)))).toBe(originalId);
    const back = await nfhot(['rollback', ref, '--json'], { env: env() });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).images).toEqual([{ image: ref, action: 'rolledBack', original: originalId }]);
    expect(await dockerT('image', 'inspect', '--format', '{{.Id}}', ref)).toBe(originalId);
    expect(
      (await dockerT('images', '--format', '{{.Repository}}:{{.Tag}}'))
        .split('\n')
        .filter((t) => t.startsWith('nfhot.local/')),
    ).toEqual([]);
  });

  it('while pip runs: the running work container stays, and the patch completes', async () => {
    const ref = await image();
    const repo = await greetRepo();
    await addGate(repo);
    const child = nfhot(['patch', `git+${repo.url}@gated`, '--image', ref], { env: env() });
    let work: string | undefined;
    for (let i = 0; i < 1500 && !work; i++) {
      work = (await dockerT('ps', '--filter', `name=nfhot-work-${lockKey(ref)}`, '--format', '{{.Names}}'))
        .split('\n')
        .find(Boolean);
      if (!work) await sleep(40);
    }
    expect(work).toBeDefined();
    await dockerT('system', 'prune', '-f'); // takes the lock (created, never started), not the running work container
    expect(await containersOf(ref)).toEqual([work]);
    await dockerT('exec', work!, 'touch', GATE);
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await greet(ref)).toBe('greet 1.3.0 gated');
    expect(await containersOf(ref)).toEqual([]);
  });

  it.each(['container', 'system'])(
    'docker %s prune before the work container starts: nfhot says so, starts again in a new one, and completes',
    async (what) => {
      const ref = await image();
      const repo = await greetRepo();
      // Stopped while the source is copied into the work container, which is created but not started.
      const child = nfhot(['patch', `git+${repo.url}@feature`, '--image', ref], {
        env: { ...env(), NFHOT_TEST_STOP_AT: 'patch:export' },
      });
      await stopped(child);
      expect((await containersOf(ref)).some((c) => c.startsWith('nfhot-work-'))).toBe(true);
      await dockerT(what, 'prune', '-f');
      expect(await containersOf(ref)).toEqual([]);
      child.kill('SIGCONT');
      const result = await child;
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(
        /^nfhot: warning: .*: the work container [0-9a-f]{12} was removed while nfhot was using it \(a docker container prune or system prune\?\); starting again in a new one$/m,
      );
      expect(result.stderr).not.toMatch(/No such container|internal error/);
      expect(await greet(ref)).toBe('greet 1.1.0 feature');
      expect(await containersOf(ref)).toEqual([]);
    },
  );
});

describe('nfhot rollback --all from a directory that is no pipeline', () => {
  it('rolls back every patched image, and the includes nfhot keeps then override nothing', async () => {
    const [a, b] = [await image(), await image()];
    const repo = await greetRepo();
    const dir = writePipeline({ A: a, B: b });
    const patched = await nfhot(['patch', `git+${repo.url}@feature`, '--pipeline', dir], { env: env() });
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(includeReferences(readFileSync(join(dir, 'nfhot.config'), 'utf8'))).toHaveLength(2);
    const back = await execa('node', [join(process.cwd(), 'bin/nfhot.js'), 'rollback', '--all', '--json'], {
      cwd: tempDir('nfhot-elsewhere-'),
      env: env(),
      reject: false,
    });
    expect(back.exitCode, back.stderr).toBe(0);
    // Every patched image of the daemon: these two, and what the tests above left patched.
    const rolled = (JSON.parse(back.stdout) as { images: { image: string; action: string }[] }).images;
    expect(rolled.map((i) => i.image)).toEqual(expect.arrayContaining([a, b]));
    expect(rolled.every((i) => i.action === 'rolledBack')).toBe(true);
    const include = readFileSync(join(dir, 'nfhot.config'), 'utf8');
    expect(includeReferences(include)).toEqual([]);
    expect(include).toMatch(/^\/\/ Nothing is patched: this file overrides nothing\.$/m);
    expect(
      (await dockerT('images', '--format', '{{.Repository}}')).split('\n').filter((r) => r.startsWith('nfhot.local/')),
    ).toEqual([]);
  });
});
