import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { fixtureTag, imageId, runIn } from '../helpers/docker.js';
import { greetRepo } from '../helpers/repos.js';
import { expectRolledBack, patchedWorld } from './world.js';

/** `docker build -t TAG` of a Dockerfile given as text (no context). */
async function build(tag: string, dockerfile: string): Promise<string> {
  await execa('docker', ['build', '-q', '-t', tag, '-'], { input: dockerfile, env: { DOCKER_BUILDKIT: '0' } });
  return imageId(tag);
}

interface Status {
  images: { image: string; state: string; originalId: string; currentId?: string }[];
}
const statusOf = async (image: string) =>
  (JSON.parse((await nfhot(['status', '--json'])).stdout) as Status).images.find((s) => s.image === image);

describe('labels nfhot did not write (or no longer vouches for)', () => {
  it('corrupt: the image is taken as an original; status, patch and rollback work', async () => {
    const base = await fixtureTag('venv');
    const image = `${base.split(':')[0]}:corrupt`;
    const id = await build(
      image,
      `FROM ${base}\nLABEL io.nfhot.schema=1 io.nfhot.image=${image} io.nfhot.original=sha256:${'0'.repeat(64)} io.nfhot.derivative=nfhot.local/x:y io.nfhot.patches="{not json"\n`,
    );
    expect(await statusOf(image)).toBeUndefined();
    const repo = await greetRepo();
    const result = await nfhot(['patch', `git+${repo.url}@feature`, '--image', image]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    expect(await statusOf(image)).toMatchObject({ state: 'patched', originalId: id });
    expect((await nfhot(['rollback', image])).exitCode).toBe(0);
    expect(await imageId(image)).toBe(id);
  });

  it("foreign: another image built FROM a derivative is its own original, and the first image's state is untouched", async () => {
    const w = await patchedWorld();
    const other = `${w.image.split(':')[0]}:built-from-patch`;
    const otherId = await build(other, `FROM ${w.image}\nRUN echo extra > /extra\n`);
    expect(await statusOf(other)).toBeUndefined();
    const result = await nfhot(['patch', `git+${w.repo.url}@second`, '--image', other]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await statusOf(other)).toMatchObject({ state: 'patched', originalId: otherId });
    expect(await runIn(other, 'cat', '/extra')).toBe('extra');
    expect(await statusOf(w.image)).toMatchObject({
      state: 'patched',
      currentId: w.patchedId,
      originalId: w.originalId,
    });
    expect((await nfhot(['rollback', other])).exitCode).toBe(0);
    expect(await imageId(other)).toBe(otherId);
    await expectRolledBack(w);
  });

  it('drift by a rebuild FROM the patched tag: status says moved, rollback refuses, the next patch keeps the rebuild', async () => {
    const w = await patchedWorld();
    const rebuilt = await build(w.image, `FROM ${w.image}\nRUN echo extra > /extra\n`);
    expect(await statusOf(w.image)).toMatchObject({ state: 'moved', currentId: rebuilt, originalId: w.originalId });
    // Runners see the rebuild, not the derivative whose labels it inherited.
    expect((await nfhot(['resolve', w.image])).stdout).toBe(w.image);
    expect((await execa('shims/docker', ['run', '--rm', w.image, 'cat', '/extra'])).stdout).toBe('extra');
    const refused = await nfhot(['rollback', w.image]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/was re-pointed since nfhot patched it/);
    expect(await imageId(w.image)).toBe(rebuilt);
    const result = await nfhot(['patch', `git+${w.repo.url}@second`, '--image', w.image]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await runIn(w.image, 'cat', '/extra')).toBe('extra');
    expect(await runIn(w.image, 'greet')).toBe('greet 1.2.0 second');
    expect((await nfhot(['rollback', w.image])).exitCode).toBe(0);
    expect(await imageId(w.image)).toBe(rebuilt);
  });
});
