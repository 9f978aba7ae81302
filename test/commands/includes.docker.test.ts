import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { includeReferences } from '../../src/core/pipeline/include.js';
import { nfhot } from '../helpers/cli.js';
import { docker, exists, fixtureTag, imageId } from '../helpers/docker.js';
import { expectIncludesTrue } from '../helpers/includes.js';
import { writePipeline } from '../helpers/pipeline.js';
import { greetRepo, tempDir } from '../helpers/repos.js';

const referencesOf = (dir: string) => includeReferences(readFileSync(join(dir, 'nfhot.config'), 'utf8'));
/** nfhot run from a directory that is no pipeline, as a user in another terminal would. */
const elsewhere = (args: string[]) =>
  execa('node', [join(process.cwd(), 'bin/nfhot.js'), ...args], { cwd: tempDir('nfhot-elsewhere-'), reject: false });

describe('the includes nfhot keeps', () => {
  it('are rewritten by a rollback run from another directory: the includes then override nothing', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const first = writePipeline({ GREET: image });
    const second = writePipeline({ OTHER_GREET: image });
    for (const dir of [first, second])
      expect((await nfhot(['patch', `git+${repo.url}@feature`, '--pipeline', dir])).exitCode).toBe(0);
    const derivative = (await nfhot(['resolve', image])).stdout.trim();
    expect(referencesOf(first)).toEqual([derivative]);
    expect(referencesOf(second)).toEqual([derivative]);
    const listed = await expectIncludesTrue();
    expect(listed.map((k) => k.path)).toEqual(
      expect.arrayContaining([join(first, 'nfhot.config'), join(second, 'nfhot.config')]),
    );

    // (rollback --all, which takes every patched image of the daemon, runs on a daemon of the
    // tests' own: test/reliability/daemon-wide.docker.test.ts.)
    const back = await elsewhere(['rollback', image]);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await exists(derivative)).toBe(false);
    for (const dir of [first, second]) {
      expect(referencesOf(dir)).toEqual([]);
      expect(readFileSync(join(dir, 'nfhot.config'), 'utf8')).toMatch(
        /^\/\/ Nothing is patched: this file overrides nothing\.$/m,
      );
    }
    await expectIncludesTrue();
  });

  it('follow a patch of an image made with --image from anywhere, and drop a pipeline that is gone', async () => {
    const image = await fixtureTag('venv');
    const repo = await greetRepo();
    const kept = writePipeline({ GREET: image });
    const gone = writePipeline({ GREET: image });
    for (const dir of [kept, gone]) expect((await nfhot(['config', '--pipeline', dir])).exitCode).toBe(0);
    rmSync(gone, { recursive: true, force: true });
    const patched = await elsewhere(['patch', `git+${repo.url}@feature`, '--image', image, '--json']);
    expect(patched.exitCode, patched.stderr).toBe(0);
    const result = JSON.parse(patched.stdout) as {
      images: { derivative: string }[];
      includes: { path: string; action: string }[];
    };
    expect(referencesOf(kept)).toEqual([result.images[0]!.derivative]);
    expect(result.includes).toEqual(
      expect.arrayContaining([
        { path: join(kept, 'nfhot.config'), action: 'rewritten', overrides: 1 },
        { path: join(gone, 'nfhot.config'), action: 'dropped' },
      ]),
    );
    const list = JSON.parse((await nfhot(['config', '--list', '--json'])).stdout) as { includes: { path: string }[] };
    expect(list.includes.map((k) => k.path)).not.toContain(join(gone, 'nfhot.config'));
    expect(existsSync(gone)).toBe(false); // dropped, not written again
    await expectIncludesTrue();
    expect((await elsewhere(['rollback', image])).exitCode).toBe(0);
    expect(referencesOf(kept)).toEqual([]);
  });
});

describe('a patch of several images where one fails', () => {
  it('patches the others, puts them in the include, says per image what happened and exits 1; --json carries both', async () => {
    const venv = await fixtureTag('venv');
    const readonly = await fixtureTag('readonly'); // has greet, but pip cannot write its site-packages
    const repo = await greetRepo();
    const dir = writePipeline({ GREET: venv, RO_GREET: readonly });
    const readonlyId = await imageId(readonly);

    const run = await nfhot(['patch', `git+${repo.url}@feature`, '--pipeline', dir]);
    expect(run.exitCode, run.stderr).toBe(1);
    const derivative = (await nfhot(['resolve', venv])).stdout.trim();
    expect(run.stdout.trim()).toBe(derivative);
    expect(run.stderr).toMatch(
      new RegExp(
        `^nfhot: error: 1 of 2 images failed: ${readonly.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: pip failed in .* \\(exit 1\\)`,
        'm',
      ),
    );
    expect(await imageId(readonly)).toBe(readonlyId);
    expect(referencesOf(dir)).toEqual([derivative]);
    await expectIncludesTrue();

    const json = await nfhot(['patch', `git+${repo.url}@main`, '--pipeline', dir, '--json']);
    expect(json.exitCode).toBe(1);
    const doc = JSON.parse(json.stdout) as {
      images: { image: string; action: string; derivative: string }[];
      failed: { image: string; error: string }[];
      error: string;
    };
    expect(doc.images.map((i) => [i.image, i.action])).toEqual([[venv, 'built']]);
    expect(doc.failed).toEqual([
      {
        image: readonly,
        error: expect.stringMatching(/^pip failed in /),
        hint: "pip's output is above; nothing was tagged",
      },
    ]);
    expect(doc.error).toMatch(/^1 of 2 images failed: /);
    expect(referencesOf(dir)).toEqual([doc.images[0]!.derivative]);
    await expectIncludesTrue();
    expect((await nfhot(['rollback', venv])).exitCode).toBe(0);
  });
});

describe('nfhot rollback of an image', () => {
  it('the daemon does not have: exit 1, named; of one it has, unpatched: exit 0', async () => {
    const image = await fixtureTag('venv');
    const missing = await nfhot(['rollback', 'nfhot-test-typo/venv:dev']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /^nfhot: error: image nfhot-test-typo\/venv:dev is not in the local Docker daemon$/m,
    );
    const fine = await nfhot(['rollback', image]);
    expect(fine.exitCode, fine.stderr).toBe(0);
    expect(fine.stdout).toBe(`${image}\tnot patched`);
  });
});

describe('a probe container', () => {
  it('is named and labelled for the reaper: one a killed run left is removed by the next command', async () => {
    const image = await fixtureTag('venv');
    // An interpreter that takes its time, so that nfhot can be killed while its probe runs.
    const slow = `${image.split(':')[0]}:slow`;
    await execa('docker', ['build', '-q', '-t', slow, '-'], {
      input: `FROM ${await imageId(image)}\nRUN printf '#!/bin/sh\\nsleep 60\\nexec python3 "$@"\\n' > /usr/local/bin/slowpy && chmod 755 /usr/local/bin/slowpy\n`,
    });
    const repo = await greetRepo();
    const child = nfhot(['patch', `git+${repo.url}@feature`, '--image', slow, '--python', '/usr/local/bin/slowpy']);
    let probe: string | undefined;
    for (let i = 0; i < 500 && !probe; i++) {
      probe = (
        await docker(
          'ps',
          '--filter',
          'name=^nfhot-probe-',
          '--filter',
          `ancestor=${await imageId(slow)}`,
          '--format',
          '{{.Names}}',
        )
      )
        .split('\n')
        .find(Boolean);
      if (!probe) await sleep(40);
    }
    expect(probe).toMatch(/^nfhot-probe-[0-9a-f]{12}$/);
    expect(await docker('inspect', '--format', '{{index .Config.Labels "io.nfhot.lock.pid"}}', probe!)).toBe(
      String(child.pid),
    );
    child.kill('SIGKILL');
    await child;
    expect((await nfhot(['status'])).exitCode).toBe(0);
    expect((await docker('ps', '-a', '--filter', `name=^${probe}$`, '--format', '{{.Names}}')).trim()).toBe('');
  });
});
