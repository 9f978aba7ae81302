import { describe, expect, it } from 'vitest';
import { rollback } from '../../src/commands/rollback.js';
import { silentReporter } from '../../src/core/report.js';
import { toLabels } from '../../src/core/record.js';
import { isNfhotRef } from '../../src/core/reference.js';
import type { Context } from '../../src/core/context.js';
import type { Engine, ImageSummary } from '../../src/core/ports/engine.js';

const id = (n: number) => `sha256:${String(n).repeat(64)}`;

/** An in-memory daemon holding just what rollback reads and writes: tags and lock names. */
function fakeEngine(images: ImageSummary[]): Engine & { tags: () => Record<string, string> } {
  const names = new Map<string, Record<string, string>>();
  const tagTo = (imageId: string, ref: string) => {
    for (const i of images) i.repoTags = i.repoTags.filter((t) => t !== ref);
    images.find((i) => i.id === imageId)!.repoTags.push(ref);
  };
  const unsupported = () => Promise.reject(new Error('not used by rollback'));
  return {
    ping: async () => undefined,
    listImages: async () => images.map((i) => ({ ...i, repoTags: [...i.repoTags] })),
    tag: async (imageId, ref) => tagTo(imageId, ref),
    untag: async (ref) => {
      for (const i of images) i.repoTags = i.repoTags.filter((t) => t !== ref);
    },
    createMarker: async (name, _image, labels) => (names.has(name) ? undefined : (names.set(name, labels), name)),
    listContainers: async (prefix) => [...names].filter(([n]) => n.startsWith(prefix)).map(([n, labels]) => ({ id: n, name: n, labels })),
    removeContainer: async (name) => void names.delete(name),
    inspectImage: unsupported,
    run: unsupported,
    push: unsupported,
    createWorkContainer: unsupported,
    tags: () => Object.fromEntries(images.flatMap((i) => i.repoTags.map((t) => [t, i.id]))),
  };
}

function patched(n: number, image: string): ImageSummary[] {
  const repo = image.split(':')[0];
  return [
    { id: id(n), repoTags: [`nfhot.local/${repo}:dev-original`], repoDigests: [], labels: {} },
    { id: id(n + 1), repoTags: [image, `nfhot.local/${repo}:dev-aaaaaaaaaaaa`], repoDigests: [], labels: toLabels({ image, original: id(n), derivative: `nfhot.local/${repo}:dev-aaaaaaaaaaaa`, patches: [] }) },
  ];
}

describe('rollback', () => {
  it('--all restores every patched image to its original, removes the keepers and releases its locks', async () => {
    const engine = fakeEngine([...patched(1, 'org/a:dev'), ...patched(3, 'org/b:dev')]);
    const ctx: Context = { engine, git: undefined as never, programs: undefined as never, report: silentReporter, signal: new AbortController().signal };
    const result = await rollback({ images: [], all: true }, ctx);
    expect(result.images.map((r) => r.action)).toEqual(['rolledBack', 'rolledBack']);
    expect(engine.tags()).toEqual({ 'org/a:dev': id(1), 'org/b:dev': id(3) }); // keepers and derivatives gone
    expect(await engine.listContainers('nfhot-')).toEqual([]);
  });

  it('rolls back the others before refusing a tag re-pointed since its patch', async () => {
    const images = [...patched(1, 'org/a:dev'), ...patched(3, 'org/b:dev'), { id: id(5), repoTags: [], repoDigests: [], labels: {} }];
    const engine = fakeEngine(images);
    await engine.tag(id(5), 'org/a:dev'); // someone rebuilt org/a:dev
    const ctx: Context = { engine, git: undefined as never, programs: undefined as never, report: silentReporter, signal: new AbortController().signal };
    await expect(rollback({ images: [], all: true }, ctx)).rejects.toThrow(/org\/a:dev was re-pointed since nfhot patched it/);
    expect(engine.tags()).toMatchObject({ 'org/a:dev': id(5), 'org/b:dev': id(3) });
    await rollback({ images: ['org/a:dev'], force: true }, ctx);
    expect(engine.tags()).toMatchObject({ 'org/a:dev': id(1) });
  });

  it('removes derivatives left for an image that is no longer patched', async () => {
    const [, derivative] = patched(1, 'org/a:dev');
    const leftover = { ...derivative!, repoTags: derivative!.repoTags.filter(isNfhotRef) }; // the tag was rebuilt as id(1)
    const engine = fakeEngine([{ id: id(1), repoTags: ['org/a:dev'], repoDigests: [], labels: {} }, leftover]);
    const ctx: Context = { engine, git: undefined as never, programs: undefined as never, report: silentReporter, signal: new AbortController().signal };
    expect((await rollback({ images: ['org/a:dev'] }, ctx)).images).toEqual([{ image: 'org/a:dev', action: 'unchanged' }]);
    expect(engine.tags()).toEqual({ 'org/a:dev': id(1) });
  });

  it('wants images or --all, not both and not neither', async () => {
    const ctx: Context = { engine: fakeEngine([]), git: undefined as never, programs: undefined as never, report: silentReporter, signal: new AbortController().signal };
    await expect(rollback({ images: [] }, ctx)).rejects.toThrow(/no image to roll back/);
    await expect(rollback({ images: ['org/a:dev'], all: true }, ctx)).rejects.toThrow(/not both/);
  });
});
