import { describe, expect, it } from 'vitest';
import { derivativeOf, lineage, planPatch, type Target } from '../../../src/core/patch/plan.js';
import type { Interpreter } from '../../../src/core/interpreter/python.js';
import { toLabels, type PatchRecord } from '../../../src/core/image/record.js';
import { parseImageRef } from '../../../src/core/image/reference.js';
import type { ResolvedSource } from '../../../src/core/source/source.js';
import type { ImageInfo } from '../../../src/core/ports/engine.js';

const ORIGINAL = `sha256:${'0'.repeat(64)}`;
const image = (id: string, labels: Record<string, string> = {}): ImageInfo => ({
  id,
  repoTags: [],
  repoDigests: [],
  config: { Labels: labels },
  labels,
  layers: 3,
  size: 1,
});
const interpreter: Interpreter = {
  env: {
    path: '/opt/venv/bin/python3',
    executable: '/opt/venv/bin/python3',
    prefix: '/opt/venv',
    version: '3.11.2',
    venv: true,
    pip: '23',
    externallyManaged: false,
    dist: null,
  },
  reason: 'test',
};
const git = (commit: string, pkg = 'greet'): ResolvedSource => ({
  kind: 'git',
  display: `git+file:///r@${commit}`,
  url: 'file:///r',
  displayUrl: 'file:///r',
  ref: 'x',
  commit,
  tree: { tree: `tree-${commit}` },
  package: pkg,
});
const record = (pkg: string, commit: string): PatchRecord => ({
  package: pkg,
  version: '1',
  source: 's',
  kind: 'git',
  url: `file:///${pkg}`,
  commit,
  tree: `tree-${commit}`,
  noDeps: false,
  python: '/opt/venv/bin/python3',
  at: '2026-01-01T00:00:00Z',
});

function target(active: PatchRecord[] = []): Target {
  const original = image(ORIGINAL);
  return {
    ref: parseImageRef('org/tool:dev'),
    current: active.length ? image(`sha256:${'1'.repeat(64)}`) : original,
    original,
    activePatches: active,
  };
}

describe('planPatch', () => {
  it('gives the same reference for the same patch set, and a new one for a new commit', () => {
    const a = planPatch(target(), git('a'.repeat(40)), interpreter, { noDeps: false, keepTag: false });
    expect(planPatch(target(), git('a'.repeat(40)), interpreter, { noDeps: false, keepTag: false }).derivative).toBe(
      a.derivative,
    );
    expect(
      planPatch(target(), git('b'.repeat(40)), interpreter, { noDeps: false, keepTag: false }).derivative,
    ).not.toBe(a.derivative);
    expect(planPatch(target(), git('a'.repeat(40)), interpreter, { noDeps: true, keepTag: false }).derivative).not.toBe(
      a.derivative,
    );
    expect(a.derivative).toMatch(/^nfhot\.local\/org\/tool:dev-[0-9a-f]{12}$/);
  });

  it('replaces the patch of the same package and keeps the others', () => {
    const plan = planPatch(
      target([record('greet', 'c'.repeat(40)), record('other', 'd'.repeat(40))]),
      git('a'.repeat(40)),
      interpreter,
      { noDeps: false, keepTag: false },
    );
    expect(plan.replaces?.package).toBe('greet');
    expect(plan.keeps.map((k) => k.package)).toEqual(['other']);
  });

  it('does not depend on the order the patches were made in', () => {
    const viaOther = planPatch(target([record('other', 'd'.repeat(40))]), git('a'.repeat(40)), interpreter, {
      noDeps: false,
      keepTag: false,
    });
    const kept = planPatch(
      target([record('greet', 'a'.repeat(40))]),
      { ...git('d'.repeat(40), 'other'), url: 'file:///other', displayUrl: 'file:///other' },
      interpreter,
      { noDeps: false, keepTag: false },
    );
    expect(kept.derivative).toBe(viaOther.derivative);
  });

  it('takes a source without a readable name to be the package it patched before from the same place', () => {
    const unnamed = { ...git('a'.repeat(40)), package: undefined, displayUrl: 'file:///greet' };
    expect(
      planPatch(target([record('greet', 'c'.repeat(40))]), unnamed, interpreter, { noDeps: false, keepTag: false })
        .replaces?.package,
    ).toBe('greet');
  });
});

describe('lineage', () => {
  it('reads the original and active patches of a derivative from its labels', () => {
    const patches = [record('greet', 'a'.repeat(40))];
    const labels = toLabels({
      image: 'org/tool:dev',
      original: ORIGINAL,
      derivative: 'nfhot.local/org/tool:dev-x',
      patches,
    });
    const derivativeId = `sha256:${'1'.repeat(64)}`;
    expect(lineage('org/tool:dev', image(derivativeId, labels), undefined, derivativeId)).toEqual({
      originalId: ORIGINAL,
      activePatches: patches,
    });
    // --keep-tag: the tag is on the original, the active reference on the derivative.
    expect(lineage('org/tool:dev', image(ORIGINAL), image(`sha256:${'1'.repeat(64)}`, labels))).toEqual({
      originalId: ORIGINAL,
      activePatches: patches,
    });
    expect(lineage('org/other:dev', image(ORIGINAL), image(`sha256:${'1'.repeat(64)}`, labels))).toEqual({
      originalId: ORIGINAL,
      activePatches: [],
    });
  });

  it('takes an image without trustworthy labels as its own original', () => {
    const id = `sha256:${'2'.repeat(64)}`;
    expect(lineage('org/tool:dev', image(id, { 'io.nfhot.schema': '1', 'io.nfhot.patches': '{not json' }))).toEqual({
      originalId: id,
      activePatches: [],
    });
  });

  it('takes an image built FROM a derivative, which inherits its labels, as a new original', () => {
    const labels = toLabels({
      image: 'org/tool:dev',
      original: ORIGINAL,
      derivative: 'nfhot.local/org/tool:dev-x',
      patches: [record('greet', 'a'.repeat(40))],
    });
    const rebuilt = `sha256:${'3'.repeat(64)}`;
    // The same tag rebuilt on top of the patched image: the derivative's reference names another image.
    expect(lineage('org/tool:dev', image(rebuilt, labels), undefined, `sha256:${'1'.repeat(64)}`)).toEqual({
      originalId: rebuilt,
      activePatches: [],
    });
    // Another image built FROM it: its labels name another reference.
    expect(lineage('org/other:dev', image(rebuilt, labels), undefined, rebuilt)).toEqual({
      originalId: rebuilt,
      activePatches: [],
    });
  });
});

describe('planPatch decides what the daemon must do', () => {
  const commit = 'a'.repeat(40);
  const derivativeImage = (t: Target, original = ORIGINAL) => {
    const derivative = derivativeOf(t, git(commit), interpreter, false);
    return image(
      `sha256:${'9'.repeat(64)}`,
      toLabels({ image: 'org/tool:dev', original, derivative, patches: [record('greet', commit)] }),
    );
  };

  it('builds when the daemon has no derivative of this patch set, or one made from another original', () => {
    const t = target();
    expect(planPatch(t, git(commit), interpreter, { noDeps: false, keepTag: false }).action).toBe('build');
    const fromElsewhere = derivativeImage(t, `sha256:${'8'.repeat(64)}`);
    expect(planPatch(t, git(commit), interpreter, { noDeps: false, keepTag: false }, fromElsewhere)).toMatchObject({
      action: 'build',
    });
  });

  it('reuses the derivative when it exists, and does nothing when the tag already names it', () => {
    const t = target();
    const existing = derivativeImage(t);
    expect(planPatch(t, git(commit), interpreter, { noDeps: false, keepTag: false }, existing)).toMatchObject({
      action: 'reuse',
      existing: { id: existing.id, patches: [record('greet', commit)] },
    });
    const tagged: Target = { ...t, current: existing };
    expect(planPatch(tagged, git(commit), interpreter, { noDeps: false, keepTag: false }, existing).action).toBe(
      'unchanged',
    );
    // --keep-tag: in place when the active reference names it and the tag stays on the original.
    expect(planPatch(tagged, git(commit), interpreter, { noDeps: false, keepTag: true }, existing).action).toBe(
      'reuse',
    );
    const kept: Target = { ...t, activeImageId: existing.id };
    expect(planPatch(kept, git(commit), interpreter, { noDeps: false, keepTag: true }, existing).action).toBe(
      'unchanged',
    );
    expect(planPatch(kept, git(commit), interpreter, { noDeps: false, keepTag: false }, existing).action).toBe('reuse');
  });

  it('names the reference derivativeOf gives', () => {
    const t = target([record('other', 'd'.repeat(40))]);
    expect(planPatch(t, git(commit), interpreter, { noDeps: true, keepTag: false }).derivative).toBe(
      derivativeOf(t, git(commit), interpreter, true),
    );
  });
});
