// The rules nf-hot repeats in Java, held to the same cases as the TypeScript core: the file is
// read here and by the plugin's JUnit test (nextflow/plugin/src/test/java/nfhot/SharedCasesTest.java).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { activeRef, isNfhotRef, nfhotRepository, readImageRef } from '../../src/core/image/reference.js';
import { sifName } from '../../src/core/image/singularity.js';
import { readState } from '../../src/core/image/state.js';
import type { ImageSummary } from '../../src/core/ports/engine.js';
import { waveBuildsFrom } from '../../src/core/pipeline/include.js';
import { waveStrategy } from '../../src/core/pipeline/run-config.js';

interface Cases {
  imageNames: (
    | { input: string; invalid: true }
    | { input: string; name: string; tag: string; familiar: string; nfhotRepository: string; activeRef: string }
  )[];
  nfhotRefs: { reference: string; nfhot: boolean }[];
  sifNames: { derivative: string; sif: string }[];
  waveStrategies: { strategy: string; has: ('conda' | 'spack' | 'dockerfile')[]; buildsFrom: string | null }[];
  patchStates: {
    why: string;
    image: string;
    images: ImageSummary[];
    patched: { derivative: string; reference: string } | null;
  }[];
}
const cases = JSON.parse(readFileSync('test/shared/plugin-cases.json', 'utf8')) as Cases;

describe('the cases nf-hot shares with the core', () => {
  it('image names: parsed, or refused, and nfhot names of them', () => {
    expect(cases.imageNames.length).toBeGreaterThan(10);
    for (const c of cases.imageNames) {
      const ref = readImageRef(c.input);
      if ('invalid' in c) expect(ref, c.input).toBeUndefined();
      else {
        expect(ref, c.input).toBeDefined();
        expect(
          {
            name: ref!.name,
            tag: ref!.tag,
            familiar: ref!.familiar,
            nfhotRepository: nfhotRepository(ref!),
            activeRef: activeRef(ref!),
          },
          c.input,
        ).toEqual({
          name: c.name,
          tag: c.tag,
          familiar: c.familiar,
          nfhotRepository: c.nfhotRepository,
          activeRef: c.activeRef,
        });
      }
    }
  });

  it("nfhot's own references", () => {
    for (const c of cases.nfhotRefs) expect(isNfhotRef(c.reference), c.reference).toBe(c.nfhot);
  });

  it('SIF file names', () => {
    for (const c of cases.sifNames) expect(sifName(c.derivative)).toBe(c.sif);
  });

  it("what Wave's strategy builds a task's image from", () => {
    for (const c of cases.waveStrategies) {
      const has = Object.fromEntries(c.has.map((h) => [h, true]));
      expect(waveBuildsFrom(waveStrategy(c.strategy), has), JSON.stringify(c)).toBe(c.buildsFrom);
    }
  });

  it("labels to decisions: what the engine's images say a task runs (the derivative, or the pushed copy), or nothing", () => {
    expect(cases.patchStates.length).toBeGreaterThan(8);
    for (const c of cases.patchStates) {
      const state = readState(c.images).find((s) => s.image === c.image);
      const runs =
        state?.state === 'patched'
          ? { derivative: state.derivative, reference: state.pushed?.[0] ?? state.derivative }
          : null;
      expect(runs, c.why).toEqual(c.patched);
    }
  });
});
