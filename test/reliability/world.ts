import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { lockKey } from '../../src/core/image/lock.js';
import { nfhotRepository, parseImageRef } from '../../src/core/image/reference.js';
import { nfhot } from '../helpers/cli.js';
import { docker, fixtureTag, imageId, nfhotContainers } from '../helpers/docker.js';
import { expectIncludesTrue } from '../helpers/includes.js';
import { writePipeline } from '../helpers/pipeline.js';
import { addVariant, greetRepo, type GreetRepo } from '../helpers/repos.js';

/** A pipeline whose image nfhot has patched once (greet from branch feature), as a user has it mid-work. */
export interface World {
  image: string;
  originalId: string;
  /** What the tag named after the first patch. */
  patchedId: string;
  repo: GreetRepo;
  dir: string;
  /** The include after the first patch. */
  include: string;
}

export const includeOf = (dir: string): string => readFileSync(join(dir, 'nfhot.config'), 'utf8');

/** A patched pipeline image; branch `second` (1.2.0) is there to patch it again. */
export async function patchedWorld(options: { patched?: boolean } = {}): Promise<World> {
  const image = await fixtureTag('venv');
  const originalId = await imageId(image);
  const repo = await greetRepo();
  await addVariant(repo, 'second', '1.2.0');
  const dir = writePipeline({ GREET: image });
  if (options.patched !== false) {
    const first = await nfhot(['patch', `git+${repo.url}@feature`, '--pipeline', dir]);
    expect(first.exitCode, first.stderr).toBe(0);
  } else {
    expect((await nfhot(['config', '--pipeline', dir])).exitCode).toBe(0);
  }
  return { image, originalId, patchedId: await imageId(image), repo, dir, include: includeOf(dir) };
}

/** The name of the image's work container once pip runs in it. */
export async function runningWork(image: string): Promise<string> {
  for (let i = 0; i < 1500; i++) {
    const [name] = (await docker('ps', '--filter', `name=nfhot-work-${lockKey(image)}`, '--format', '{{.Names}}'))
      .split('\n')
      .filter(Boolean);
    if (name) return name;
    await sleep(40);
  }
  throw new Error(`no work container ran for ${image}`);
}

/** nfhot's references and untagged images left for the image. */
export async function leftovers(image: string): Promise<string[]> {
  const repo = nfhotRepository(parseImageRef(image));
  const tags = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}'))
    .split('\n')
    .filter((t) => t.startsWith(`${repo}:`));
  const untagged = (
    await docker('images', '-q', '--no-trunc', '--filter', 'dangling=true', '--filter', `label=io.nfhot.image=${image}`)
  )
    .split('\n')
    .filter(Boolean);
  return [...tags, ...untagged];
}

/** Rollback brings back the exact original and leaves nothing of nfhot's: no tag, image, container or override. */
export async function expectRolledBack(w: World): Promise<void> {
  const rolledBack = await nfhot(['rollback', w.image, '--pipeline', w.dir]);
  expect(rolledBack.exitCode, rolledBack.stderr).toBe(0);
  expect(await imageId(w.image)).toBe(w.originalId);
  expect(await leftovers(w.image)).toEqual([]);
  expect(await nfhotContainers(w.image)).toEqual([]);
  expect(includeOf(w.dir)).not.toContain('nfhot.local');
  await expectIncludesTrue();
}
