import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { patch } from '../../src/commands/patch.js';
import { resolve } from '../../src/commands/resolve.js';
import { rollback } from '../../src/commands/rollback.js';
import { status } from '../../src/commands/status.js';
import { UserError } from '../../src/core/errors.js';
import { keeperRef, parseImageRef } from '../../src/core/reference.js';
import { testContext } from '../helpers/context.js';
import { docker, exists, fixtureTag, imageId, runIn } from '../helpers/docker.js';
import { greetRepo } from '../helpers/repos.js';

describe('nfhot rollback', () => {
  it('restores the exact original image, even after docker image prune and docker system prune', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    const first = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const second = await patch({ source: `git+${repo.url}@main`, images: [image] }, testContext());
    // Only the keeper tag still names the original now; prune must not take it.
    await docker('image', 'prune', '-f');
    if (process.env.NFHOT_TEST_ENGINE !== 'podman') await docker('system', 'prune', '-f'); // not in Podman's Docker API

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

  it('refuses to overwrite a tag re-pointed since the patch, unless forced', async () => {
    const image = await fixtureTag('venv');
    const originalId = await imageId(image);
    const repo = await greetRepo();
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    const newer = (await docker('image', 'inspect', '--format', '{{.Id}}', (await fixtureTag('conda')))).trim();
    await docker('tag', newer, image); // someone rebuilt or pulled the tag

    const [entry] = (await status(testContext())).images.filter((s) => s.image === image);
    expect(entry).toMatchObject({ state: 'moved', originalId, currentId: newer });
    expect(entry?.warning).toMatch(/re-pointed/);
    const error = await rollback({ images: [image] }, testContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toMatch(/--force/);
    expect(await imageId(image)).toBe(newer);

    // The next patch takes the newer image as the original.
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    expect((await status(testContext())).images.find((s) => s.image === image)).toMatchObject({ state: 'patched', originalId: newer });
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

    process.env.NFHOT_CACHE = mkdtempSync(join(tmpdir(), 'nfhot-fresh-home-'));
    const entry = (await status(testContext())).images.find((s) => s.image === image);
    expect(entry).toMatchObject({ state: 'patched', originalId, currentId: await imageId(image), derivative });
    expect(entry?.patches).toEqual([
      expect.objectContaining({ package: 'greet', version: '1.1.0', source: `git+${repo.url}@feature`, ref: 'feature', commit: await repo.commit('feature') }),
    ]);
    expect(entry?.patches[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await resolve(image, testContext())).toBe(derivative);

    await rollback({ images: [image] }, testContext());
    expect((await status(testContext())).images.find((s) => s.image === image)).toBeUndefined();
    expect(await resolve(image, testContext())).toBe(image);
  });
});
