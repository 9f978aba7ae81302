import { readdirSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/commands/diff.js';
import { exportPatch } from '../../src/commands/export.js';
import { patch } from '../../src/commands/patch.js';
import { resolve } from '../../src/commands/resolve.js';
import { rollback } from '../../src/commands/rollback.js';
import { status } from '../../src/commands/status.js';
import { UserError } from '../../src/core/base/errors.js';
import { keeperRef, parseImageRef } from '../../src/core/image/reference.js';
import { nfhot } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { docker, exists, fixtureTag, imageId, runIn } from '../helpers/docker.js';
import { greetRepo, tempDir } from '../helpers/repos.js';

describe('nfhot rollback', () => {
  // That the original survives docker image prune and system prune is tested on a daemon of the
  // tests' own: test/reliability/daemon-wide.docker.test.ts.
  it('restores the exact original image after two patches, and removes what nfhot made for it', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    const first = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const second = await patch({ source: `git+${repo.url}@main`, images: [image] }, testContext());

    const result = await rollback({ images: [image] }, testContext());
    expect(result.images).toEqual([{ image, action: 'rolledBack', original: originalId }]);
    expect(await imageId(image)).toBe(originalId);
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
    // What nfhot made for the image goes with the rollback.
    expect(await exists(keeperRef(parseImageRef(image)))).toBe(false);
    expect(await exists(first.images[0]!.derivative)).toBe(false);
    expect(await exists(second.images[0]!.derivative)).toBe(false);

    const again = await rollback({ images: [image] }, testContext());
    expect(again.images).toEqual([{ image, action: 'unchanged' }]);
    expect(await imageId(image)).toBe(originalId);
  });

  it("acts on the image an nfhot reference names: diff and export of an earlier patch set's reference, rollback of the keeper's", async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    const first = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    await patch({ source: `git+${repo.url}@main`, images: [image] }, testContext());
    const earlier = first.images[0]!.derivative;

    // The earlier patch set, as its own reference names it, not the active one.
    const changes = await diff(earlier, testContext());
    expect(changes).toMatchObject({ image, derivative: earlier, original: originalId });
    expect(changes.packages[0]).toMatchObject({ name: 'greet', before: '1.0.0', after: '1.1.0' });
    const exported = await exportPatch({ image: earlier, format: 'requirements' }, testContext());
    expect(exported.text).toContain(`greet @ git+file://localhost${repo.dir}@${await repo.commit('feature')}`);

    const ctx = testContext();
    const result = await rollback({ images: [keeperRef(parseImageRef(image))] }, ctx);
    expect(result.images).toEqual([{ image, action: 'rolledBack', original: originalId }]);
    expect(ctx.lines.join('\n')).toContain(`is nfhot's reference of ${image}: rolling back ${image}`);
    expect(await imageId(image)).toBe(originalId);
    await expect(diff(image, testContext())).rejects.toThrow(`${image} is not patched`);
  });

  it('removes what nfhot left for an image whose tag was put back by hand', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    const result = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    await docker('tag', originalId, image);
    expect((await status(testContext())).images.find((s) => s.image === image)).toBeUndefined();
    expect((await rollback({ images: [image] }, testContext())).images).toEqual([{ image, action: 'unchanged' }]);
    expect(await exists(result.images[0]!.derivative)).toBe(false);
    expect(await exists(keeperRef(parseImageRef(image)))).toBe(false);
    expect(await imageId(image)).toBe(originalId);
  });

  // Docker only: Podman's patch is a commit, whose child image keeps the original from `rmi`.
  it.skipIf(process.env.NFHOT_TEST_ENGINE === 'podman')(
    'says there is no original to go back to when it was removed (docker rmi of its ID: a loaded layer is no child of it)',
    async () => {
      const image = await fixtureTag('venv');
      // An original of its own: nfhot's keeper is its only name once the tag names the patch.
      await execa('docker', ['build', '-q', '-t', image, '-'], {
        input: `FROM ${await imageId(image)}\nLABEL nfhot.test=rmi\n`,
      });
      const originalId = await imageId(image);
      const repo = await greetRepo();
      await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
      expect(await docker('rmi', originalId)).toContain(`Deleted: ${originalId}`);
      const r = await nfhot(['rollback', image]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(
        `nfhot: error: ${image} is nfhot's patch of ${originalId.slice(7, 19)}, which is no longer in the daemon (removed with docker rmi?): there is no original to roll back to`,
      );
      expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    },
  );

  it('refuses to overwrite a tag re-pointed since the patch, unless forced', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const newer = (await docker('image', 'inspect', '--format', '{{.Id}}', await fixtureTag('conda'))).trim();
    await docker('tag', newer, image); // someone rebuilt or pulled the tag

    const [entry] = (await status(testContext())).images.filter((s) => s.image === image);
    expect(entry).toMatchObject({ state: 'moved', originalId, currentId: newer });
    expect(entry?.warning).toMatch(/re-pointed/);
    const error = await rollback({ images: [image] }, testContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(
      new RegExp(`^${image.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} was re-pointed since nfhot patched it`),
    );
    expect((error as UserError).hint).toBe(
      `to restore the original (${originalId.slice(7, 19)}) anyway: nfhot rollback ${image} --force`,
    );
    expect(await imageId(image)).toBe(newer);

    // The next patch takes the newer image as the original.
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    expect((await status(testContext())).images.find((s) => s.image === image)).toMatchObject({
      state: 'patched',
      originalId: newer,
    });
    await rollback({ images: [image] }, testContext());
    expect(await imageId(image)).toBe(newer);
  });

  it('restores the original with --force after the tag was moved', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    await docker('tag', await imageId(await fixtureTag('conda')), image);
    await rollback({ images: [image], force: true }, testContext());
    expect(await imageId(image)).toBe(originalId);
  });
});

describe('nfhot status and resolve', () => {
  it('read the truth from the daemon alone, from a fresh home directory', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    expect(await resolve(image, testContext())).toBe(image);
    const result = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const derivative = result.images[0]!.derivative;

    // Another user's shell: a home of its own, no cache and no state of nfhot's.
    const home = tempDir('nfhot-fresh-home-');
    const env = {
      HOME: home,
      NFHOT_CACHE: undefined,
      NFHOT_STATE: undefined,
      XDG_CACHE_HOME: undefined,
      XDG_STATE_HOME: undefined,
    };
    const shown = await nfhot(['status', '--json'], { env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    const entry = (JSON.parse(shown.stdout) as Awaited<ReturnType<typeof status>>).images.find(
      (s) => s.image === image,
    );
    expect(entry).toMatchObject({ state: 'patched', originalId, currentId: await imageId(image), derivative });
    expect(entry?.patches).toEqual([
      expect.objectContaining({
        package: 'greet',
        version: '1.1.0',
        source: `git+${repo.url}@feature`,
        ref: 'feature',
        commit: await repo.commit('feature'),
      }),
    ]);
    expect(entry?.patches[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await nfhot(['resolve', image], { env })).stdout).toBe(derivative);
    expect(readdirSync(home)).toEqual([]); // read from the daemon: nothing of the home's was needed, nothing written there

    await rollback({ images: [image] }, testContext());
    expect((await status(testContext())).images.find((s) => s.image === image)).toBeUndefined();
    expect(await resolve(image, testContext())).toBe(image);
  });
});
