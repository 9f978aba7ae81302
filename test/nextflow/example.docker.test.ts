// The real Nextflow on the example pipeline, the whole loop: the task fails with the original, a
// patch from the fix branch makes -resume rerun exactly the tasks of the patched image, the same
// patch again reruns nothing, another commit reruns them again, and the rollback gives back the
// first run's results. Every run is checked with Nextflow's trace.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import {
  agreement,
  EXAMPLE,
  exampleImages,
  buildExampleImage,
  contents,
  copyPipeline,
  expectNfhotReadsAsNextflowRan,
  hashes,
  NEXTFLOW_ENV,
  nextflowArgs,
  nextflowBin,
  nextflowOnPath,
  nextflowRun,
  readTrace,
  seqstatsRepo,
  statuses,
  type TraceRow,
} from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const { SEQSTATS, COREUTILS } = exampleImages(PREFIX);
const { GC, UPPER, VERSION, LINES } = EXAMPLE;
const pipeline = (untouched = false) => copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched });

const byProcess = (rows: TraceRow[], process: string) => rows.filter((r) => r.process === process);

describe(`the example pipeline under the real Nextflow`, () => {
  beforeAll(async () => {
    await buildExampleImage(SEQSTATS, BASE);
    await docker('tag', BASE, COREUTILS); // another tool's image: it has no seqstats
    return () => cleanupRepo(`quay.io/${PREFIX}`);
  }, 300_000);

  it('fails, is patched, reruns exactly the patched tasks, reruns nothing for the same patch, again for another commit, and the rollback gives back the first run', async () => {
    const dir = pipeline();
    const repo = await seqstatsRepo();
    const run = (...args: string[]) => nextflowRun(dir, ['-profile', 'docker', ...args]);
    // The include the pipeline's config names is nfhot's: written once, as the README says, overriding nothing yet.
    expect((await nfhot(['config'], { cwd: dir })).exitCode).toBe(0);

    const first = await run();
    expect(first.rows.find((r) => r.process === GC)?.exit, first.all).toBe('1');
    expect(statuses(first.rows), first.all).toEqual({
      [LINES]: ['COMPLETED'],
      [GC]: ['FAILED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    expect(first.rows.find((r) => r.process === GC)!.container).toBe(SEQSTATS);
    expect(first.rows.find((r) => r.process === LINES)!.container).toBe(COREUTILS);
    await expectNfhotReadsAsNextflowRan(dir, 'docker', first.rows);

    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`], { cwd: dir });
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
    for (const p of [GC, UPPER, VERSION]) expect(byProcess(second.rows, p)[0]!.container).toBe(fix);
    expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.1\n');
    await expectNfhotReadsAsNextflowRan(dir, 'docker', second.rows);

    // The same patch again: nothing to do, and nothing reruns.
    expect((await nfhot(['patch', `git+file://${repo}@fix-lowercase`], { cwd: dir })).stdout.trim()).toBe(fix);
    const third = await run('-resume');
    expect(statuses(third.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['CACHED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });

    // Another commit: the patched tasks rerun with its reference, the rest stays cached.
    const again = (await nfhot(['patch', `git+file://${repo}@fix-again`], { cwd: dir })).stdout.trim();
    expect(again).not.toBe(fix);
    const fourth = await run('-resume');
    expect(statuses(fourth.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['COMPLETED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    for (const p of [GC, UPPER, VERSION]) expect(byProcess(fourth.rows, p)[0]!.container).toBe(again);
    expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.2\n');

    // Rolled back: the first run's results, by the first run's hashes. The task that failed fails
    // again (Nextflow never reuses a failed task's directory: it runs it in a new one).
    expect((await nfhot(['rollback', SEQSTATS], { cwd: dir })).exitCode).toBe(0);
    const fifth = await run('-resume');
    expect(fifth.rows.find((r) => r.process === GC)?.exit).toBe('1');
    expect(statuses(fifth.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(hashes(fifth.rows, [GC])).toEqual(hashes(first.rows, [GC]));
    expect(byProcess(fifth.rows, GC)[0]!.container).toBe(SEQSTATS);
    await expectNfhotReadsAsNextflowRan(dir, 'docker', fifth.rows);
  });

  it('-c nfhot.config on a pipeline whose files are left as they are (nextflow run nf-core/x): the include written where the run is launched', async () => {
    const assets = pipeline(true);
    const before = contents(assets);
    const launch = tempDir();
    const include = join(launch, 'nfhot.config');
    const repo = await seqstatsRepo();
    const run = (...args: string[]) => nextflowRun(assets, ['-profile', 'docker', ...args], { launch });

    const first = await run();
    expect(statuses(first.rows), first.all).toEqual({
      [LINES]: ['COMPLETED'],
      [GC]: ['FAILED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    const patched = await nfhot(
      ['patch', `git+file://${repo}@fix-lowercase`, '--pipeline', assets, '--include', include],
      { cwd: launch },
    );
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(patched.stderr).toContain(`${include} is outside the pipeline: run it with  nextflow run … -c ${include}`);
    const second = await run('-c', include, '-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['COMPLETED'],
      [UPPER]: ['COMPLETED'],
      [VERSION]: ['COMPLETED'],
    });
    for (const p of [GC, UPPER, VERSION]) expect(byProcess(second.rows, p)[0]!.container).toBe(patched.stdout.trim());
    await expectNfhotReadsAsNextflowRan(assets, 'docker', second.rows, ['--include', include]);

    // A rollback from anywhere keeps that include true too.
    expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    expect(readFileSync(include, 'utf8')).not.toContain('nfhot.local/');
    const third = await run('-c', include, '-resume');
    expect(statuses(third.rows)).toEqual({
      [LINES]: ['CACHED'],
      [GC]: ['FAILED'],
      [UPPER]: ['CACHED'],
      [VERSION]: ['CACHED'],
    });
    expect(contents(assets)).toEqual(before);
  });

  it('nfhot rerun of the task real Nextflow ran and that failed passes with the patch; the work directory is untouched; the preflight asks the real nextflow', async () => {
    const dir = pipeline();
    const repo = await seqstatsRepo();
    expect((await nfhot(['config'], { cwd: dir })).exitCode).toBe(0);
    const first = await nextflowRun(dir, ['-profile', 'docker']);
    const [bucket, rest] = byProcess(first.rows, GC)[0]!.hash.split('/') as [string, string];
    const task = join(dir, 'work', bucket, readdirSync(join(dir, 'work', bucket)).find((d) => d.startsWith(rest))!);
    const before = contents(task);
    expect((await nfhot(['rerun', task], { cwd: dir })).exitCode).toBe(1); // not patched yet: the original, failing as before

    expect((await nfhot(['patch', `git+file://${repo}@fix-lowercase`], { cwd: dir })).exitCode).toBe(0);
    const rerun = await nfhot(['rerun', task, '--json'], { cwd: dir });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ patched: true, exitCode: 0, outputs: ['sequences.gc.tsv'] });
    expect(readFileSync(join(JSON.parse(rerun.stdout).ranIn, 'sequences.gc.tsv'), 'utf8')).toContain(
      'ACGTacgt\tGC=0.50',
    );
    expect(contents(task)).toEqual(before);

    // The preflight with the real nextflow on PATH: its inspect agrees with nfhot's reading.
    const check = await nfhot(['config', '--check'], { cwd: dir, env: { PATH: nextflowOnPath(), ...NEXTFLOW_ENV } });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stderr).toMatch(agreement(4, 3));
  });

  it('nfhot watch … -- nextflow run . -resume: a saved edit reruns the patched tasks with it, the rest cached', async () => {
    const dir = pipeline();
    expect((await nfhot(['config'], { cwd: dir })).exitCode).toBe(0);
    const wc = join(tempDir(), 'wc');
    await execa('git', ['clone', '-q', '-b', 'fix-lowercase', await seqstatsRepo(), wc]);
    const trace = join(tempDir(), 'trace.tsv');
    const child = nfhot(
      ['watch', wc, '--', nextflowBin(), ...nextflowArgs('.', trace, ['-profile', 'docker', '-resume'])],
      { cwd: dir, env: NEXTFLOW_ENV, buffer: false },
    );
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const runs = () => (stderr.match(/watch: \S+ exited with 0/g) ?? []).length;
    const until = async (n: number) => {
      for (const end = Date.now() + 180_000; runs() < n; await sleep(200))
        if (Date.now() > end) throw new Error(`no run ${n}:\n${stderr}`);
    };
    try {
      await until(1);
      expect(statuses(readTrace(trace))).toEqual({
        [LINES]: ['COMPLETED'],
        [GC]: ['COMPLETED'],
        [UPPER]: ['COMPLETED'],
        [VERSION]: ['COMPLETED'],
      });
      const cli = join(wc, 'src/seqstats/cli.py');
      writeFileSync(cli, readFileSync(cli, 'utf8').replace('GC=', 'gc-content='));
      await until(2);
      expect(stderr).toMatch(/watch: patched in [\d.]+ s \(src\/seqstats\/cli\.py changed\): \S+ synced/);
      const rows = readTrace(trace);
      expect(statuses(rows)).toEqual({
        [LINES]: ['CACHED'],
        [GC]: ['COMPLETED'],
        [UPPER]: ['COMPLETED'],
        [VERSION]: ['COMPLETED'],
      });
      expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain(
        'ACGTacgt\tgc-content=0.50',
      );
    } finally {
      child.kill('SIGINT');
      await child.catch(() => undefined);
    }
  });
});
