// The real Nextflow with -profile podman: its tasks run by the podman CLI on the test Podman's
// storage, nfhot patching through Podman's API service. Run by the `podman` project.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo } from '../helpers/docker.js';
import {
  EXAMPLE,
  exampleImages,
  copyPipeline,
  expectNfhotReadsAsNextflowRan,
  NEXTFLOW_ENV,
  nextflowRun,
  seqstatsRepo,
  statuses,
} from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const { SEQSTATS, COREUTILS } = exampleImages(PREFIX);
const { GC, UPPER, VERSION, LINES } = EXAMPLE;

describe('the example pipeline under the real Nextflow, with Podman', () => {
  const { cli } = inject('podman');
  beforeAll(async () => {
    // Built by Docker (the example's Dockerfile, as the README gives it), then loaded into Podman's storage.
    const env = { DOCKER_HOST: process.env.NFHOT_TEST_DOCKER_HOST!, DOCKER_BUILDKIT: '0' };
    await execa('docker', ['build', '-q', '--build-arg', `BASE=${BASE}`, '-t', SEQSTATS, 'examples'], { env });
    await execa('docker', ['tag', BASE, COREUTILS], { env });
    await execa('sh', ['-c', 'docker save "$@" | podman $OPTIONS load -q', 'sh', SEQSTATS, COREUTILS], {
      env: { ...env, ...cli.env, OPTIONS: cli.options.join(' ') },
    });
    await execa('docker', ['rmi', SEQSTATS, COREUTILS], { env });
    return () => cleanupRepo(`quay.io/${PREFIX}`);
  }, 300_000);

  it('-profile podman: fails, is patched, -resume runs the patch in exactly the patched tasks, and the rollback gives back the original', async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` });
    // Nextflow's `podman run` on the test Podman's storage (podman.engineOptions go before `run`).
    const storage = join(tempDir(), 'podman.config');
    writeFileSync(storage, `podman.engineOptions = '${cli.options.join(' ')}'\n`);
    const run = (...args: string[]) =>
      nextflowRun(dir, ['-profile', 'podman', '-c', storage, ...args], { env: cli.env });
    expect((await nfhot(['config', '--profile', 'podman'], { cwd: dir })).exitCode).toBe(0);

    const first = await run();
    expect(first.rows.find((r) => r.process === GC)?.exit, first.all).toBe('1');
    expect(statuses(first.rows), `${JSON.stringify(first.rows)}\n${first.all}`).toEqual({
      [LINES]: ['COMPLETED'],
      [GC]: ['FAILED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    expect(first.rows.find((r) => r.process === GC)!.container).toBe(SEQSTATS);
    await expectNfhotReadsAsNextflowRan(dir, 'podman', first.rows);

    const repo = await seqstatsRepo();
    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`, '--profile', 'podman'], { cwd: dir });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    const second = await run('-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['COMPLETED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    for (const p of [GC, UPPER, VERSION]) expect(second.rows.find((r) => r.process === p)!.container).toBe(fix);
    expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.1\n');
    await expectNfhotReadsAsNextflowRan(dir, 'podman', second.rows);

    expect((await nfhot(['rollback', SEQSTATS, '--profile', 'podman'], { cwd: dir })).exitCode).toBe(0);
    const third = await run('-resume');
    expect(statuses(third.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(third.rows.find((r) => r.process === UPPER)!.hash).toBe(first.rows.find((r) => r.process === UPPER)!.hash);
  });

  it('nf-hot, the plugin, with no include: the podman CLI with podman.engineOptions says what is patched, also with --keep-tag', async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const storage = join(tempDir(), 'podman.config');
    writeFileSync(storage, `podman.engineOptions = '${cli.options.join(' ')}'\n`);
    const installed = await nfhot(['plugin', 'install', '--nxf-home', NEXTFLOW_ENV.NXF_HOME]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    const plugin = installed.stdout.trim().split('\n').at(-1)!;
    const run = (...args: string[]) =>
      nextflowRun(dir, ['-profile', 'podman', '-c', storage, '-plugins', plugin, ...args], { env: cli.env });

    const first = await run();
    expect(statuses(first.rows), first.all).toEqual({
      [LINES]: ['COMPLETED'],
      [GC]: ['FAILED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    const patched = await nfhot(
      ['patch', `git+file://${await seqstatsRepo()}@fix-lowercase`, '--image', SEQSTATS, '--keep-tag'],
      { cwd: tempDir() },
    );
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    try {
      const second = await run('-resume');
      expect(statuses(second.rows), second.all).toEqual({
        [LINES]: ['CACHED'],
        [GC]: ['COMPLETED'],
        [UPPER]: ['COMPLETED'],
        [VERSION]: ['COMPLETED'],
      });
      for (const p of [GC, UPPER, VERSION]) expect(second.rows.find((r) => r.process === p)!.container).toBe(fix);
      expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.1\n');
    } finally {
      expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    }
    const third = await run('-resume');
    expect(statuses(third.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(third.rows.find((r) => r.process === UPPER)!.hash).toBe(first.rows.find((r) => r.process === UPPER)!.hash);
  });
});
