import { execa, type Options } from 'execa';
import { describe, expect, it } from 'vitest';
import { fixtureTag, imageId, nfhotContainers, runIn } from './helpers/docker.js';
import { greetRepo } from './helpers/repos.js';
import { lockKey } from '../src/core/lock.js';

/** Runs the installed entry point, as a user would. */
function nfhot(args: string[], options: Options = {}) {
  return execa('node', ['bin/nfhot.js', ...args], { reject: false, ...options });
}

const NO_STACK = /^\s+at /m;

describe('the nfhot command', () => {
  it('answers --version and --help on every command', async () => {
    const version = await nfhot(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
    for (const command of [[], ['patch'], ['rollback'], ['status'], ['resolve']]) {
      const help = await nfhot([...command, '--help']);
      expect(help.exitCode, command.join(' ')).toBe(0);
      expect(help.stdout).toContain('--help');
    }
  });

  it.each([
    [['frobnicate'], /Unknown argument|Unknown command/],
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

  it('fails with exit 1 and a one-line reason for a missing image, and prints one JSON document with --json', async () => {
    const repo = await greetRepo();
    const result = await nfhot(['patch', `git+${repo.url}@feature`, '--image', 'nfhot-test-missing/none:dev', '--json']);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: expect.stringMatching(/is not in the local Docker daemon/) });
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
    expect(patched.stderr).toMatch(/pip\| .*Successfully installed greet-1\.1\.0/);
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');

    const plain = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image], { env });
    expect(plain.stdout).toBe(result.images[0].derivative);

    const status = await nfhot(['status', '--json']);
    expect(JSON.parse(status.stdout).images.find((s: { image: string }) => s.image === image)).toMatchObject({ state: 'patched', derivative: result.images[0].derivative });
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
    child.stderr!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('pip|')) child.kill('SIGINT');
    });
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/interrupted by SIGINT; nothing was tagged/);
    expect(await imageId(image)).toBe(originalId);
    const key = lockKey(image);
    expect((await nfhotContainers()).filter((n) => n.includes(key))).toEqual([]);
  });
});
