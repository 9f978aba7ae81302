import { describe, expect, it } from 'vitest';
import { fromLabels } from '../../src/core/record.js';
import { nfhot, stopped } from '../helpers/cli.js';
import { docker, fixtureTag, imageId, nfhotContainers, rawInspect, runIn } from '../helpers/docker.js';
import { addGate, addVariant, GATE, greetRepo } from '../helpers/repos.js';
import { expectRolledBack, patchedWorld, runningWork } from './world.js';

describe('concurrent patches', () => {
  it('of one image, four processes with four sources: each completes or is told it is busy; one whole patch set stays', async () => {
    const w = await patchedWorld({ patched: false });
    const branches = ['b1', 'b2', 'b3', 'b4'];
    for (const [n, b] of branches.entries()) await addVariant(w.repo, b, `2.${n}.0`);
    const layers = (await rawInspect(w.image)).RootFS.Layers.length;
    const runs = await Promise.all(branches.map((b) => nfhot(['patch', `git+${w.repo.url}@${b}`, '--image', w.image])));
    const done = branches.filter((_, n) => runs[n]!.exitCode === 0);
    for (const r of runs.filter((r) => r.exitCode !== 0)) {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^nfhot: error: busy: /m);
    }
    expect(done.length).toBeGreaterThan(0);
    // The tag: the original plus one complete patch set, from one of the runs that completed.
    const info = await rawInspect(w.image);
    const record = fromLabels(info.Config.Labels as Record<string, string>)!;
    expect(record.original).toBe(w.originalId);
    expect(record.patches).toHaveLength(1);
    const winner = record.patches[0]!.ref!;
    expect(done).toContain(winner);
    expect(await runIn(w.image, 'greet')).toBe(`greet 2.${branches.indexOf(winner)}.0 ${winner}`);
    expect(info.RootFS.Layers).toHaveLength(layers + 1);
    expect(await nfhotContainers(w.image)).toEqual([]);
    await expectRolledBack(w);
  });

  it('refuses to carry out a plan made before another patch of the image completed', async () => {
    const w = await patchedWorld({ patched: false });
    const late = nfhot(['patch', `git+${w.repo.url}@second`, '--image', w.image], { env: { NFHOT_TEST_STOP_AT: 'patch:planned' } });
    await stopped(late);
    const first = await nfhot(['patch', `git+${w.repo.url}@feature`, '--image', w.image]);
    expect(first.exitCode, first.stderr).toBe(0);
    late.kill('SIGCONT');
    const result = await late;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^nfhot: error: busy: .* changed while nfhot was preparing to patch it/m);
    expect(await runIn(w.image, 'greet')).toBe('greet 1.1.0 feature');
    expect(await nfhotContainers(w.image)).toEqual([]);
  });

  it('of different images run in parallel: one does not wait for the other', async () => {
    const slow = await fixtureTag('venv');
    const fast = await fixtureTag('venv');
    const repo = await greetRepo();
    await addGate(repo);
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
  });
});
