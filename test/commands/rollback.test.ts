import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { config } from '../../src/commands/config.js';
import { rollback } from '../../src/commands/rollback.js';
import type { Context } from '../../src/core/base/context.js';
import { BusyError } from '../../src/core/base/errors.js';
import { lockKey } from '../../src/core/image/lock.js';
import { includeReferences } from '../../src/core/pipeline/include.js';
import type { Engine, ImageSummary } from '../../src/core/ports/engine.js';
import { silentReporter } from '../../src/core/base/report.js';
import { toLabels } from '../../src/core/image/record.js';
import { isNfhotRef } from '../../src/core/image/reference.js';
import { writePipeline } from '../helpers/pipeline.js';

const id = (n: number) => `sha256:${String(n).repeat(64)}`;

/** An in-memory daemon holding just what rollback reads and writes: tags and lock names. */
function fakeEngine(
  images: ImageSummary[],
): Engine & { tags: () => Record<string, string>; locks: Map<string, Record<string, string>> } {
  const locks = new Map<string, Record<string, string>>();
  const tagTo = (imageId: string, ref: string) => {
    for (const i of images) i.repoTags = i.repoTags.filter((t) => t !== ref);
    images.find((i) => i.id === imageId)!.repoTags.push(ref);
  };
  const unsupported = () => Promise.reject(new Error('not used by rollback'));
  return {
    address: 'unix:///fake.sock',
    kind: 'docker',
    cli: 'docker',
    ping: async () => undefined,
    listImages: async () => images.map((i) => ({ ...i, repoTags: [...i.repoTags] })),
    tag: async (imageId, ref) => tagTo(imageId, ref),
    untag: async (ref) => {
      for (const i of images) i.repoTags = i.repoTags.filter((t) => t !== ref);
    },
    createMarker: async (name, _image, labels) => {
      if (locks.has(name)) return undefined;
      locks.set(name, labels);
      return name;
    },
    listContainers: async (prefix) =>
      [...locks].filter(([n]) => n.startsWith(prefix)).map(([n, labels]) => ({ id: n, name: n, labels })),
    removeContainer: async (name) => void locks.delete(name),
    inspectImage: unsupported,
    run: unsupported,
    push: unsupported,
    createWorkContainer: unsupported,
    addsLayers: false,
    addLayer: unsupported,
    tags: () => Object.fromEntries(images.flatMap((i) => i.repoTags.map((t) => [t, i.id]))),
    locks,
  };
}

function patched(n: number, image: string): ImageSummary[] {
  const repo = image.split(':')[0];
  return [
    { id: id(n), repoTags: [`nfhot.local/${repo}:dev-original`], repoDigests: [], labels: {} },
    {
      id: id(n + 1),
      repoTags: [image, `nfhot.local/${repo}:dev-aaaaaaaaaaaa`],
      repoDigests: [],
      labels: toLabels({ image, original: id(n), derivative: `nfhot.local/${repo}:dev-aaaaaaaaaaaa`, patches: [] }),
    },
  ];
}

const contextOf = (engine: Engine): Context => ({
  engine,
  git: undefined as never,
  programs: undefined as never,
  report: silentReporter,
  signal: new AbortController().signal,
});

describe('rollback', () => {
  it('--all restores every patched image to its original, removes the keepers and releases its locks', async () => {
    const engine = fakeEngine([...patched(1, 'org/a:dev'), ...patched(3, 'org/b:dev')]);
    const result = await rollback({ images: [], all: true }, contextOf(engine));
    expect(result.images.map((r) => r.action)).toEqual(['rolledBack', 'rolledBack']);
    expect(result.failed).toBeUndefined();
    expect(engine.tags()).toEqual({ 'org/a:dev': id(1), 'org/b:dev': id(3) }); // keepers and derivatives gone
    expect(await engine.listContainers('nfhot-')).toEqual([]);
  });

  it('rolls back the others, and says it refused a tag re-pointed since its patch', async () => {
    const images = [
      ...patched(1, 'org/a:dev'),
      ...patched(3, 'org/b:dev'),
      { id: id(5), repoTags: [], repoDigests: [], labels: {} },
    ];
    const engine = fakeEngine(images);
    await engine.tag(id(5), 'org/a:dev'); // someone rebuilt org/a:dev
    const result = await rollback({ images: [], all: true }, contextOf(engine));
    expect(result.images).toEqual([{ image: 'org/b:dev', action: 'rolledBack', original: id(3) }]);
    expect(result.failed).toEqual([
      {
        image: 'org/a:dev',
        error: expect.stringMatching(/^org\/a:dev was re-pointed since nfhot patched it \(it is now 5{12}\)/),
        hint: 'to restore the original (111111111111) anyway: nfhot rollback org/a:dev --force',
      },
    ]);
    expect(engine.tags()).toMatchObject({ 'org/a:dev': id(5), 'org/b:dev': id(3) });
    await rollback({ images: ['org/a:dev'], force: true }, contextOf(engine));
    expect(engine.tags()).toMatchObject({ 'org/a:dev': id(1) });
  });

  it('removes derivatives left for an image that is no longer patched', async () => {
    const [, derivative] = patched(1, 'org/a:dev');
    const leftover = { ...derivative!, repoTags: derivative!.repoTags.filter(isNfhotRef) }; // the tag was rebuilt as id(1)
    const engine = fakeEngine([{ id: id(1), repoTags: ['org/a:dev'], repoDigests: [], labels: {} }, leftover]);
    expect((await rollback({ images: ['org/a:dev'] }, contextOf(engine))).images).toEqual([
      { image: 'org/a:dev', action: 'unchanged' },
    ]);
    expect(engine.tags()).toEqual({ 'org/a:dev': id(1) });
  });

  it('fails for an image the daemon does not have (a typo is no success); an unpatched one is harmless', async () => {
    const engine = fakeEngine([{ id: id(1), repoTags: ['org/a:dev'], repoDigests: [], labels: {} }]);
    await expect(rollback({ images: ['org/typo:dev'] }, contextOf(engine))).rejects.toThrow(
      /^image org\/typo:dev is not in the local Docker daemon$/,
    );
    expect((await rollback({ images: ['org/a:dev'] }, contextOf(engine))).images).toEqual([
      { image: 'org/a:dev', action: 'unchanged' },
    ]);
    const both = await rollback({ images: ['org/a:dev', 'org/typo:dev'] }, contextOf(engine));
    expect(both.images).toEqual([{ image: 'org/a:dev', action: 'unchanged' }]);
    expect(both.failed?.map((f) => f.error)).toEqual(['image org/typo:dev is not in the local Docker daemon']);
  });

  it('goes on past an image whose lock another nfhot holds, and the include then names only what is still patched', async () => {
    const engine = fakeEngine([...patched(1, 'org/a:dev'), ...patched(3, 'org/b:dev')]);
    const dir = writePipeline({ A: 'org/a:dev', B: 'org/b:dev' });
    await config({ pipeline: dir }, contextOf(engine)); // nfhot keeps this include from now on
    const include = () => includeReferences(readFileSync(join(dir, 'nfhot.config'), 'utf8')).sort();
    expect(include()).toEqual(['nfhot.local/org/a:dev-aaaaaaaaaaaa', 'nfhot.local/org/b:dev-aaaaaaaaaaaa']);
    engine.locks.set(`nfhot-lock-${lockKey('org/a:dev')}`, {
      'io.nfhot.lock.host': 'elsewhere',
      'io.nfhot.lock.pid': '1',
    }); // another machine's nfhot
    // Run from no pipeline at all: the include is kept, and rewritten all the same.
    const result = await rollback({ images: [], all: true }, contextOf(engine));
    expect(result.images).toEqual([{ image: 'org/b:dev', action: 'rolledBack', original: id(3) }]);
    expect(result.failed?.map((f) => [f.image, f.cause instanceof BusyError])).toEqual([['org/a:dev', true]]);
    expect(result.includes).toEqual([{ path: join(dir, 'nfhot.config'), action: 'rewritten', overrides: 1 }]);
    expect(include()).toEqual(['nfhot.local/org/a:dev-aaaaaaaaaaaa']);
  });

  it('wants images or --all, not both and not neither', async () => {
    const ctx = contextOf(fakeEngine([]));
    await expect(rollback({ images: [] }, ctx)).rejects.toThrow(/no image to roll back/);
    await expect(rollback({ images: ['org/a:dev'], all: true }, ctx)).rejects.toThrow(/not both/);
  });
});
