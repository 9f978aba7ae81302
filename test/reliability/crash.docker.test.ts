import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromLabels } from '../../src/core/image/record.js';
import { keeperRef, parseImageRef } from '../../src/core/image/reference.js';
import { nfhot, stopped } from '../helpers/cli.js';
import { exists, imageId, nfhotContainers, rawInspect, runIn } from '../helpers/docker.js';
import { expectIncludesTrue } from '../helpers/includes.js';
import { addGate } from '../helpers/repos.js';
import { expectRolledBack, includeOf, patchedWorld, runningWork, type World } from './world.js';

/** Runs nfhot until it stops itself at `point` (NFHOT_TEST_STOP_AT), then SIGKILLs it there. */
async function killAt(point: string, args: string[]): Promise<void> {
  const child = nfhot(args, { env: { NFHOT_TEST_STOP_AT: point } });
  await stopped(child);
  child.kill('SIGKILL');
  expect((await child).signal).toBe('SIGKILL');
}

/**
 * What must hold after any crash: `status` tells the truth and removes the crashed run's
 * containers; the include is whole — the old file or the one nfhot writes for the state now.
 */
async function expectConsistent(w: World): Promise<void> {
  const tagId = await imageId(w.image);
  const status = await nfhot(['status', '--json']);
  expect(status.exitCode, status.stderr).toBe(0);
  const entry = (
    JSON.parse(status.stdout) as { images: { image: string; state: string; currentId: string; derivative: string }[] }
  ).images.find((e) => e.image === w.image);
  if (tagId === w.originalId) expect(entry).toBeUndefined();
  else {
    expect(entry).toMatchObject({ state: 'patched', currentId: tagId });
    expect(await imageId(entry!.derivative)).toBe(tagId);
  }
  expect(await nfhotContainers(w.image)).toEqual([]);
  const left = includeOf(w.dir);
  expect((await nfhot(['config', '--pipeline', w.dir])).exitCode).toBe(0);
  expect([w.include, includeOf(w.dir)]).toContain(left);
  expect(readdirSync(w.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  await expectIncludesTrue();
}

/** The tag names the earlier state or the complete new patch, never anything else; the original stays reachable. */
async function expectWhole(w: World, repatch: boolean): Promise<'old' | 'new'> {
  const tagId = await imageId(w.image);
  const old = tagId === w.patchedId;
  expect(await runIn(w.image, 'greet')).toBe(
    old ? (repatch ? 'greet 1.1.0 feature' : 'greet 1.0.0 original') : 'greet 1.2.0 second',
  );
  if (!old)
    expect(
      fromLabels((await rawInspect(w.image)).Config.Labels as Record<string, string>)?.patches.map((p) => p.ref),
    ).toEqual(['second']);
  const keeper = keeperRef(parseImageRef(w.image));
  if (tagId !== w.originalId) expect(await imageId(keeper)).toBe(w.originalId);
  else if (await exists(keeper)) expect(await imageId(keeper)).toBe(w.originalId);
  return old ? 'old' : 'new';
}

const PATCH_POINTS = [
  'patch:export',
  'patch:commit',
  'patch:committed',
  'patch:tag-derivative',
  'patch:tag-keeper',
  'include:write',
];

describe('SIGKILL at each step of a patch', () => {
  for (const repatch of [true, false]) {
    it.each(PATCH_POINTS)(
      `${repatch ? 'of a patched image' : 'of an original'}, at %s: a whole image, the truth from status, the next run cleans up`,
      async (point) => {
        const w = await patchedWorld({ patched: repatch });
        await killAt(point, ['patch', `git+${w.repo.url}@second`, '--pipeline', w.dir]);
        // Only the include is left to write at include:write: the tags were complete.
        expect(await expectWhole(w, repatch)).toBe(point === 'include:write' ? 'new' : 'old');
        await expectConsistent(w);
        const again = await nfhot(['patch', `git+${w.repo.url}@second`, '--pipeline', w.dir]);
        expect(again.exitCode, again.stderr).toBe(0);
        expect(await runIn(w.image, 'greet')).toBe('greet 1.2.0 second');
        await expectIncludesTrue();
        await expectRolledBack(w);
      },
    );
  }

  it('while pip runs: the tag is untouched, and the next command removes the work container still running', async () => {
    const w = await patchedWorld();
    await addGate(w.repo);
    const child = nfhot(['patch', `git+${w.repo.url}@gated`, '--pipeline', w.dir]);
    const work = await runningWork(w.image);
    child.kill('SIGKILL');
    await child;
    expect(await nfhotContainers(w.image)).toContain(work);
    expect(await expectWhole(w, true)).toBe('old');
    await expectConsistent(w);
    await expectRolledBack(w);
  });
});

describe('SIGKILL at each step of a sync (an edit written over the full install of a working copy)', () => {
  it.each(['patch:committed', 'patch:tag-derivative', 'patch:tag-keeper', 'include:write'])(
    'at %s: the full install or the whole sync, the truth from status, the next run syncs',
    async (point) => {
      const world = await patchedWorld({ patched: false });
      const wc = world.repo.dir;
      const say = (variant: string) =>
        writeFileSync(
          join(wc, 'src/greet/__init__.py'),
          `__version__ = "1.0.0"\nVARIANT = "${variant}"\n\n\ndef main() -> None:\n    print(f"greet {__version__} {VARIANT}")\n`,
        );
      say('installed');
      const first = await nfhot(['patch', wc, '--pipeline', world.dir]);
      expect(first.exitCode, first.stderr).toBe(0);
      const w: World = { ...world, patchedId: await imageId(world.image), include: includeOf(world.dir) };
      say('synced');
      await killAt(point, ['patch', wc, '--pipeline', w.dir]);
      const output = await runIn(w.image, 'greet');
      expect(output).toBe(point === 'include:write' ? 'greet 1.0.0 synced' : 'greet 1.0.0 installed');
      await expectConsistent(w);
      const again = await nfhot(['patch', wc, '--pipeline', w.dir, '--json']);
      expect(again.exitCode, again.stderr).toBe(0);
      // Killed once the image had its reference, the image is reused; only the include left to write, it is in place.
      const action = {
        'patch:committed': 'synced',
        'patch:tag-derivative': 'reused',
        'patch:tag-keeper': 'reused',
        'include:write': 'unchanged',
      }[point];
      expect((JSON.parse(again.stdout) as { images: { action: string }[] }).images[0]?.action).toBe(action);
      expect(await runIn(w.image, 'greet')).toBe('greet 1.0.0 synced');
      await expectIncludesTrue();
      await expectRolledBack(w);
    },
  );
});

describe('SIGKILL at each step of a rollback', () => {
  it.each(['rollback:tag', 'rollback:untag-keeper', 'include:write'])(
    'at %s: the original or the patch, the truth from status, the next rollback completes',
    async (point) => {
      const w = await patchedWorld();
      await killAt(point, ['rollback', w.image, '--pipeline', w.dir]);
      const tagId = await imageId(w.image);
      expect(tagId).toBe(w.originalId); // the tag goes back first
      await expectConsistent(w);
      await expectRolledBack(w);
    },
  );
});

describe('SIGINT and SIGTERM during a patch', () => {
  /** Stops nfhot at `point`, sends `signal`, lets it go on. */
  async function signalAt(point: string, signal: NodeJS.Signals, args: string[]) {
    const child = nfhot(args, { env: { NFHOT_TEST_STOP_AT: point } });
    await stopped(child);
    child.kill(signal);
    child.kill('SIGCONT');
    return child;
  }

  it('before the commit: clean up, tag nothing, exit 130 (SIGINT) or 143 (SIGTERM)', async () => {
    const w = await patchedWorld();
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const result = await signalAt('patch:export', signal, ['patch', `git+${w.repo.url}@second`, '--pipeline', w.dir]);
      expect(result.exitCode, result.stderr).toBe(code);
      expect(result.stderr).toMatch(new RegExp(`interrupted by ${signal}; nothing was tagged`));
      expect(await imageId(w.image)).toBe(w.patchedId);
      expect(await nfhotContainers(w.image)).toEqual([]);
      expect(includeOf(w.dir)).toBe(w.include);
      await expectIncludesTrue();
    }
  });

  it('while pip runs: the container is killed and removed', async () => {
    const w = await patchedWorld();
    await addGate(w.repo);
    const child = nfhot(['patch', `git+${w.repo.url}@gated`, '--pipeline', w.dir]);
    await runningWork(w.image);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(143);
    expect(await imageId(w.image)).toBe(w.patchedId);
    expect(await nfhotContainers(w.image)).toEqual([]);
    await expectIncludesTrue();
  });

  it('once committed: finish the tags and the include, and still exit non-zero', async () => {
    const w = await patchedWorld();
    const result = await signalAt('patch:committed', 'SIGTERM', [
      'patch',
      `git+${w.repo.url}@second`,
      '--pipeline',
      w.dir,
    ]);
    expect(result.exitCode).toBe(143);
    expect(result.stderr).toMatch(/SIGTERM came too late to stop: the command completed/);
    expect(await runIn(w.image, 'greet')).toBe('greet 1.2.0 second');
    expect(includeOf(w.dir)).toContain(
      ((await rawInspect(w.image)).Config.Labels as Record<string, string>)['io.nfhot.derivative'],
    );
    expect(await nfhotContainers(w.image)).toEqual([]);
    await expectIncludesTrue();
  });
});
