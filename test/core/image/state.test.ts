import { describe, expect, it } from 'vitest';
import { readState } from '../../../src/core/image/state.js';
import { toLabels, type PatchRecord } from '../../../src/core/image/record.js';
import type { ImageSummary } from '../../../src/core/ports/engine.js';

const id = (n: number) => `sha256:${String(n).repeat(64)}`;
const patch: PatchRecord = {
  package: 'greet',
  version: '1.1.0',
  source: 's',
  kind: 'git',
  commit: 'c',
  tree: 't',
  noDeps: false,
  python: 'p',
  at: 'now',
};
const derivative = (n: number, image: string, original: string, tags: string[]): ImageSummary => ({
  id: id(n),
  repoTags: tags,
  repoDigests: [],
  labels: toLabels({ image, original, derivative: tags.find((t) => /-[0-9a-f]{12}$/.test(t)) ?? '', patches: [patch] }),
});

describe('readState', () => {
  it('lists a patched image with its original and patches', () => {
    const images = [
      { id: id(1), repoTags: ['nfhot.local/org/tool:dev-original'], repoDigests: [], labels: {} },
      derivative(2, 'org/tool:dev', id(1), ['org/tool:dev', 'nfhot.local/org/tool:dev-aaaaaaaaaaaa']),
    ];
    expect(readState(images)).toEqual([
      {
        image: 'org/tool:dev',
        state: 'patched',
        mode: 'tag',
        originalId: id(1),
        currentId: id(2),
        derivative: 'nfhot.local/org/tool:dev-aaaaaaaaaaaa',
        patches: [patch],
      },
    ]);
  });

  it("knows a --keep-tag patch: the tag stays on the original, nfhot's active reference names the derivative", () => {
    const images = [
      { id: id(1), repoTags: ['org/tool:dev', 'nfhot.local/org/tool:dev-original'], repoDigests: [], labels: {} },
      derivative(2, 'org/tool:dev', id(1), [
        'nfhot.local/org/tool:dev-active',
        'nfhot.local/org/tool:dev-aaaaaaaaaaaa',
      ]),
      derivative(3, 'org/tool:dev', id(1), ['nfhot.local/org/tool:dev-bbbbbbbbbbbb']),
    ];
    expect(readState(images)).toEqual([
      {
        image: 'org/tool:dev',
        state: 'patched',
        mode: 'keep-tag',
        originalId: id(1),
        currentId: id(1),
        derivative: 'nfhot.local/org/tool:dev-aaaaaaaaaaaa',
        patches: [patch],
      },
    ]);
  });

  it('says when the tag was moved by something else, or removed', () => {
    const keeper = { id: id(1), repoTags: ['nfhot.local/org/tool:dev-original'], repoDigests: [], labels: {} };
    const old = derivative(2, 'org/tool:dev', id(1), ['nfhot.local/org/tool:dev-aaaaaaaaaaaa']);
    const rebuilt = { id: id(3), repoTags: ['org/tool:dev'], repoDigests: [], labels: {} };
    expect(readState([keeper, old, rebuilt])).toEqual([
      { image: 'org/tool:dev', state: 'moved', originalId: id(1), currentId: id(3), patches: [] },
    ]);
    expect(readState([keeper, old])).toEqual([
      { image: 'org/tool:dev', state: 'moved', originalId: id(1), patches: [] },
    ]);
    // Rebuilt FROM the patched image: the labels are inherited, but the derivative's reference names another image.
    const fromDerivative = { ...old, id: id(3), repoTags: ['org/tool:dev'] };
    expect(readState([keeper, old, fromDerivative])).toEqual([
      { image: 'org/tool:dev', state: 'moved', originalId: id(1), currentId: id(3), patches: [] },
    ]);
  });

  it('leaves out rolled-back images and labels that name no valid image', () => {
    const rolledBack = [
      { id: id(1), repoTags: ['org/tool:dev'], repoDigests: [], labels: {} },
      derivative(2, 'org/tool:dev', id(1), ['nfhot.local/org/tool:dev-aaaaaaaaaaaa']),
    ];
    expect(readState(rolledBack)).toEqual([]);
    expect(readState([derivative(2, 'Not A Ref', id(1), ['x:y'])])).toEqual([]);
  });
});
