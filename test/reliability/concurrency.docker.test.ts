import { describe, expect, it } from 'vitest';
import { includeReferences } from '../../src/core/pipeline/include.js';
import { fromLabels } from '../../src/core/image/record.js';
import { nfhot, stopped } from '../helpers/cli.js';
import { docker, fixtureTag, imageId, nfhotContainers, rawInspect, runIn } from '../helpers/docker.js';
import { addGate, addVariant, GATE, git, greetRepo, otherRepo } from '../helpers/repos.js';
import { expectIncludesTrue } from '../helpers/includes.js';
import { writePipeline } from '../helpers/pipeline.js';
import { expectRolledBack, includeOf, patchedWorld, runningWork } from './world.js';

describe('concurrent patches', () => {
  it('of one image, four processes with four sources of two packages: each completes or is told it is busy; no completed patch is lost', async () => {
    const w = await patchedWorld({ patched: false });
    await addVariant(w.repo, 'b1', '2.0.0');
    await addVariant(w.repo, 'b2', '2.1.0');
    const other = await otherRepo();
    await git(other.dir, 'checkout', '-qb', 'o1');
    const sources = [
      [`git+${w.repo.url}@b1`, 'greet'],
      [`git+${w.repo.url}@b2`, 'greet'],
      [`git+${other.url}@main`, 'other'],
      [`git+${other.url}@o1`, 'other'],
    ] as const;
    const layers = (await rawInspect(w.image)).RootFS.Layers.length;
    const runs = await Promise.all(sources.map(([source]) => nfhot(['patch', source, '--image', w.image])));
    for (const r of runs.filter((r) => r.exitCode !== 0)) {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^nfhot: error: busy: /m);
    }
    const done = sources.filter((_, n) => runs[n]!.exitCode === 0);
    expect(done.length).toBeGreaterThan(0);
    // The tag: the original plus one complete patch set, holding every package a completed run patched.
    const info = await rawInspect(w.image);
    const record = fromLabels(info.Config.Labels as Record<string, string>)!;
    expect(record.original).toBe(w.originalId);
    expect(record.patches.map((p) => p.package).sort()).toEqual([...new Set(done.map(([, pkg]) => pkg))].sort());
    const greet = record.patches.find((p) => p.package === 'greet');
    if (greet)
      expect(await runIn(w.image, 'greet')).toBe(`greet ${greet.ref === 'b1' ? '2.0.0' : '2.1.0'} ${greet.ref}`);
    expect(info.RootFS.Layers).toHaveLength(layers + 1);
    expect(await nfhotContainers(w.image)).toEqual([]);
    // The include the pipeline keeps names the patch set that stayed, though no run was pointed at it.
    expect(includeOf(w.dir)).toContain(record.derivative);
    await expectIncludesTrue();
    await expectRolledBack(w);
  });

  it('refuses to carry out a plan made before another patch of the image completed', async () => {
    const w = await patchedWorld({ patched: false });
    const late = nfhot(['patch', `git+${w.repo.url}@second`, '--image', w.image], {
      env: { NFHOT_TEST_STOP_AT: 'patch:planned' },
    });
    await stopped(late);
    const first = await nfhot(['patch', `git+${w.repo.url}@feature`, '--image', w.image]);
    expect(first.exitCode, first.stderr).toBe(0);
    late.kill('SIGCONT');
    const result = await late;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^nfhot: error: busy: .* changed while nfhot was preparing to patch it/m);
    expect(await runIn(w.image, 'greet')).toBe('greet 1.1.0 feature');
    expect(await nfhotContainers(w.image)).toEqual([]);
    await expectIncludesTrue();
  });

  it('of different images run in parallel: one does not wait for the other', async () => {
    const slow = await fixtureTag('venv');
    const fast = await fixtureTag('venv');
    const repo = await greetRepo();
    await addGate(repo);
    const dir = writePipeline({ SLOW: slow, FAST: fast });
    expect((await nfhot(['config', '--pipeline', dir])).exitCode).toBe(0);
    const held = nfhot(['patch', `git+${repo.url}@gated`, '--image', slow]);
    const work = await runningWork(slow);
    // While the first is held in pip, the second runs from start to end.
    const second = await nfhot(['patch', `git+${repo.url}@feature`, '--image', fast]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(await runIn(fast, 'greet')).toBe('greet 1.1.0 feature');
    expect(held.exitCode).toBeNull(); // still running
    await docker('exec', work, 'touch', GATE);
    const first = await held;
    expect(first.exitCode, first.stderr).toBe(0);
    expect(await runIn(slow, 'greet')).toBe('greet 1.3.0 gated');
    expect(await imageId(slow)).not.toBe(await imageId(fast));
    // Both patches are in the pipeline's include, whichever rewrote it last.
    const resolved = await Promise.all([slow, fast].map(async (i) => (await nfhot(['resolve', i])).stdout.trim()));
    expect(includeReferences(includeOf(dir)).sort()).toEqual(resolved.sort());
    await expectIncludesTrue();
  });
});
