import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NO_STACK, nfhot, stopped } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { greetRepo, otherRepo } from '../helpers/repos.js';

let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon('1g', [inject('images').venv!]);
});
afterAll(() => daemon?.stop());

// A patch that must be committed: another package's patch is kept, so pip installs both. (A
// layer nfhot writes is loaded while its work container goes, which frees more than the layer takes.)
describe('a disk that fills during the commit', () => {
  it('fails with one line and a hint, tags nothing, leaves no container or image; with space again the patch works', async () => {
    const env = { DOCKER_HOST: daemon.host };
    const dockerT = async (...args: string[]) => (await execa('docker', args, { env })).stdout;
    const image = 'nfhot-test-full/venv:dev';
    await dockerT('tag', inject('images').venv!, image);
    const images = async () =>
      (await dockerT('images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}')).split('\n').sort();
    const other = await otherRepo();
    expect((await nfhot(['patch', `git+${other.url}@main`, '--image', image], { env })).exitCode).toBe(0);
    const before = await images();
    const repo = await greetRepo();
    // pip has run; the disk fills before the commit writes the layer.
    const child = nfhot(['patch', `git+${repo.url}@feature`, '--image', image], {
      env: { ...env, NFHOT_TEST_STOP_AT: 'patch:commit' },
    });
    await stopped(child);
    await execa('sh', ['-c', 'dd if=/dev/zero of="$1/fill" bs=1M 2>/dev/null; sync', 'fill', daemon.dataRoot]).catch(
      () => undefined,
    );
    expect((await execa('df', ['--output=avail', daemon.dataRoot])).stdout.split('\n')[1]!.trim()).toBe('0');
    child.kill('SIGCONT');
    const result = await child;
    expect(result.exitCode).toBe(1);
    const error = result.stderr.split('\n').filter((l) => l.startsWith('nfhot: error: ') || l.startsWith('  hint: '));
    expect(error).toEqual([
      expect.stringMatching(/^nfhot: error: cannot commit the patch: .*no space left on device$/),
      expect.stringMatching(/^ {2}hint: the disk under Docker's data root is full/),
    ]);
    expect(result.stderr).not.toMatch(NO_STACK);
    expect(await images()).toEqual(before);
    expect(await dockerT('ps', '-aq')).toBe('');

    await execa('rm', [`${daemon.dataRoot}/fill`]);
    const again = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await execa('docker', ['run', '--rm', image, 'greet'], { env })).stdout).toBe('greet 1.1.0 feature');
  });
});
