import { hostname } from 'node:os';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { patch } from '../../src/commands/patch.js';
import { BusyError, InterruptedError, UserError } from '../../src/core/base/errors.js';
import { acquireLock, lockKey } from '../../src/core/image/lock.js';
import { keeperRef, nfhotRepository, parseImageRef } from '../../src/core/image/reference.js';
import { DockerodeEngine } from '../../src/adapters/docker/dockerode.js';
import { execaPrograms } from '../../src/adapters/programs.js';
import { testContext } from '../helpers/context.js';
import { docker, exists, fixtureTag, imageId, nfhotContainers, runIn } from '../helpers/docker.js';
import { greetRepo } from '../helpers/repos.js';

/** The image's tags as they were, and no container of nfhot's left for it. */
async function expectUntouched(image: string, id: string): Promise<void> {
  expect(await imageId(image)).toBe(id);
  expect(await exists(keeperRef(parseImageRef(image)))).toBe(false);
  expect(await nfhotContainers(parseImageRef(image).familiar)).toEqual([]);
  const ref = parseImageRef(image);
  const derivatives = (await docker('images', '--format', '{{.Repository}}'))
    .split('\n')
    .filter((r) => r === nfhotRepository(ref));
  expect(derivatives).toEqual([]);
  // Nor an untagged image a failed commit would leave.
  expect(
    await docker('images', '-q', '--filter', 'dangling=true', '--filter', `label=io.nfhot.image=${ref.familiar}`),
  ).toBe('');
}

describe('a failed patch changes nothing', () => {
  it('when the ref does not exist', async () => {
    const image = await fixtureTag('venv');
    const id = await imageId(image);
    const repo = await greetRepo();
    await expect(patch({ source: `git+${repo.url}@no-such-branch`, images: [image] }, testContext())).rejects.toThrow(
      /ref "no-such-branch" not found/,
    );
    await expectUntouched(image, id);
  });

  it("when pip fails, and says why in pip's own words", async () => {
    const image = await fixtureTag('venv');
    const id = await imageId(image);
    const repo = await greetRepo();
    const ctx = testContext();
    const error = await patch({ source: `git+${repo.url}@broken`, images: [image] }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/pip failed in .* \(exit 1\)/);
    expect(ctx.lines.join('')).toMatch(/pip\|.*greet: deliberate build failure/);
    expect((error as UserError).detail).toMatch(/greet: deliberate build failure/);
    await expectUntouched(image, id);
    expect(await runIn(image, 'greet')).toBe('greet 1.0.0 original');
  });

  it('when the image has no Python', async () => {
    const image = await fixtureTag('nopython');
    const id = await imageId(image);
    const repo = await greetRepo();
    await expect(patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext())).rejects.toThrow(
      /no Python interpreter found in/,
    );
    await expectUntouched(image, id);
  });

  it('when the image does not exist', async () => {
    const repo = await greetRepo();
    await expect(
      patch({ source: `git+${repo.url}@feature`, images: ['nfhot-test-missing/none:dev'] }, testContext()),
    ).rejects.toThrow(/image nfhot-test-missing\/none:dev is not in the local Docker daemon/);
  });

  it('when the source is not a Python project', async () => {
    const image = await fixtureTag('venv');
    const id = await imageId(image);
    await expect(patch({ source: 'test/fixtures/images', images: [image] }, testContext())).rejects.toThrow(
      /is not a Python project/,
    );
    await expectUntouched(image, id);
  });

  it('when interrupted while pip runs: the container is removed and nothing tagged', async () => {
    const image = await fixtureTag('venv');
    const id = await imageId(image);
    const repo = await greetRepo();
    const controller = new AbortController();
    const ctx = testContext(controller.signal);
    const { output } = ctx.report;
    ctx.report.output = (prefix) => {
      const write = output(prefix);
      return (chunk) => {
        write(chunk);
        if (!controller.signal.aborted) controller.abort('SIGINT');
      };
    };
    const error = await patch({ source: `git+${repo.url}@feature`, images: [image] }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
    await expectUntouched(image, id);
  });
});

describe('the lock', () => {
  it('makes a second patch of the same image fail fast with a clear message', async () => {
    const image = await fixtureTag('venv');
    const id = await imageId(image);
    const repo = await greetRepo();
    const lock = await acquireLock(new DockerodeEngine(new Docker(), execaPrograms), parseImageRef(image).familiar, id);
    try {
      const error = await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext()).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BusyError);
      expect((error as BusyError).message).toMatch(
        new RegExp(`busy: another nfhot \\(pid ${process.pid} on ${hostname()}.*\\) is changing ${image}`),
      );
    } finally {
      await lock.release();
    }
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
  });

  it('is taken back from a holder that died, and its work container is removed', async () => {
    const image = await fixtureTag('venv');
    const id = await imageId(image);
    const repo = await greetRepo();
    const key = lockKey(parseImageRef(image).familiar);
    // What a SIGKILLed nfhot leaves: its lock (holder pid gone) and its work container.
    await docker(
      'create',
      '--name',
      `nfhot-lock-${key}`,
      '--label',
      `io.nfhot.lock.host=${hostname()}`,
      '--label',
      'io.nfhot.lock.pid=999999999',
      id,
      'true',
    );
    await docker('create', '--name', `nfhot-work-${key}-${hostname()}-999999999`, id, 'true');
    await patch({ source: `git+${repo.url}@feature`, images: [image] }, testContext());
    expect(await runIn(image, 'greet')).toBe('greet 1.1.0 feature');
    expect(await nfhotContainers(parseImageRef(image).familiar)).toEqual([]);
  });
});
