// The real Nextflow on the example pipeline, the whole loop: the task fails with the original, a
// patch from the fix branch makes -resume rerun exactly the tasks of the patched image, the same
// patch again reruns nothing, another commit reruns them again, and the rollback gives back the
// first run's results. Every run is checked with Nextflow's trace.
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import { buildExampleImage, expectNfhotReadsAsNextflowRan, nextflowRun, statuses, type TraceRow } from '../helpers/nextflow.js';
import { git, tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const SEQSTATS = `quay.io/${PREFIX}/seqstats:1.0.0--nfhot0`;
const COREUTILS = `quay.io/${PREFIX}/coreutils:9.1--nfhot0`;
const GC = 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC';
const UPPER = 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC_UPPER';
const VERSION = 'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_VERSION';
const LINES = 'NFHOT_EXAMPLE:SEQSTATS:COUNT_LINES';

/**
 * A copy of the example pipeline whose modules name images of this test's own (the example's are
 * biocontainers/…); `untouched`: without the line that includes nfhot.config, as a pipeline
 * nextflow pulled into ~/.nextflow/assets is.
 */
function pipeline(untouched = false): string {
  const dir = join(tempDir(), 'pipeline');
  cpSync('examples', dir, { recursive: true, filter: (p) => !/\/(work|results|\.nextflow)$/.test(p) });
  for (const module of readdirSync(join(dir, 'modules/local'))) {
    const file = join(dir, 'modules/local', module, 'main.nf');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('biocontainers/', `${PREFIX}/`));
  }
  const config = join(dir, 'nextflow.config');
  if (untouched) writeFileSync(config, readFileSync(config, 'utf8').replace(/\n\/\/ Patched images from nfhot.*\nincludeConfig 'nfhot.config'\n/, '\n'));
  return dir;
}

/** Every file of a directory and its content: to show it untouched. */
function contents(dir: string): Record<string, string> {
  return Object.fromEntries((readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** The package's repository: main (1.0.0), fix-lowercase (1.0.1, the fix), fix-again (1.0.2, another commit). */
async function seqstatsRepo(): Promise<string> {
  const dir = join(tempDir(), 'seqstats');
  cpSync('examples/seqstats', dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', '1.0.0');
  await git(dir, 'checkout', '-qb', 'fix-lowercase');
  await execa('git', ['apply', join(process.cwd(), 'examples/seqstats-fix-lowercase.patch')], { cwd: dir });
  await git(dir, 'commit', '-qam', 'fix');
  await git(dir, 'checkout', '-qb', 'fix-again');
  for (const f of ['pyproject.toml', 'src/seqstats/__init__.py']) writeFileSync(join(dir, f), readFileSync(join(dir, f), 'utf8').replace('1.0.1', '1.0.2'));
  await git(dir, 'commit', '-qam', '1.0.2');
  return dir;
}

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
    expect(first.exitCode, first.all).not.toBe(0);
    expect(statuses(first.rows), first.all).toEqual({ [LINES]: ['COMPLETED'], [GC]: ['FAILED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    expect(first.rows.find((r) => r.process === GC)!.container).toBe(SEQSTATS);
    expect(first.rows.find((r) => r.process === LINES)!.container).toBe(COREUTILS);
    await expectNfhotReadsAsNextflowRan(dir, 'docker', first.rows);

    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`], { cwd: dir });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    const second = await run('-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['COMPLETED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    for (const p of [GC, UPPER, VERSION]) expect(byProcess(second.rows, p)[0]!.container).toBe(fix);
    expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.1\n');
    await expectNfhotReadsAsNextflowRan(dir, 'docker', second.rows);

    // The same patch again: nothing to do, and nothing reruns.
    expect((await nfhot(['patch', `git+file://${repo}@fix-lowercase`], { cwd: dir })).stdout.trim()).toBe(fix);
    const third = await run('-resume');
    expect(statuses(third.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['CACHED'], [UPPER]: ['CACHED'], [VERSION]: ['CACHED'] });

    // Another commit: the patched tasks rerun with its reference, the rest stays cached.
    const again = (await nfhot(['patch', `git+file://${repo}@fix-again`], { cwd: dir })).stdout.trim();
    expect(again).not.toBe(fix);
    const fourth = await run('-resume');
    expect(statuses(fourth.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['COMPLETED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    for (const p of [GC, UPPER, VERSION]) expect(byProcess(fourth.rows, p)[0]!.container).toBe(again);
    expect(readFileSync(join(dir, 'results/seqstats_version/versions.yml'), 'utf8')).toBe('seqstats: 1.0.2\n');

    // Rolled back: the first run's results, by the first run's hashes. The task that failed fails
    // again (Nextflow never reuses a failed task's directory: it runs it in a new one).
    expect((await nfhot(['rollback', SEQSTATS], { cwd: dir })).exitCode).toBe(0);
    const fifth = await run('-resume');
    expect(fifth.exitCode).not.toBe(0);
    expect(statuses(fifth.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['FAILED'], [UPPER]: ['CACHED'], [VERSION]: ['CACHED'] });
    const hashes = (rows: TraceRow[]) => Object.fromEntries(rows.filter((r) => r.process !== GC).map((r) => [r.name, r.hash]));
    expect(hashes(fifth.rows)).toEqual(hashes(first.rows));
    expect(byProcess(fifth.rows, GC)[0]!.container).toBe(SEQSTATS);
    await expectNfhotReadsAsNextflowRan(dir, 'docker', fifth.rows);
  });

  it("-c nfhot.config on a pipeline whose files are left as they are (nextflow run nf-core/x): the include written where the run is launched", async () => {
    const assets = pipeline(true);
    const before = contents(assets);
    const launch = tempDir();
    const include = join(launch, 'nfhot.config');
    const repo = await seqstatsRepo();
    const run = (...args: string[]) => nextflowRun(assets, ['-profile', 'docker', ...args], { launch });

    const first = await run();
    expect(statuses(first.rows), first.all).toEqual({ [LINES]: ['COMPLETED'], [GC]: ['FAILED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`, '--pipeline', assets, '--include', include], { cwd: launch });
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(patched.stderr).toContain(`${include} is outside the pipeline: run it with  nextflow run … -c ${include}`);
    const second = await run('-c', include, '-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['COMPLETED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    for (const p of [GC, UPPER, VERSION]) expect(byProcess(second.rows, p)[0]!.container).toBe(patched.stdout.trim());
    await expectNfhotReadsAsNextflowRan(assets, 'docker', second.rows, ['--include', include]);

    // A rollback from anywhere keeps that include true too.
    expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    expect(readFileSync(include, 'utf8')).not.toContain('nfhot.local/');
    const third = await run('-c', include, '-resume');
    expect(statuses(third.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['FAILED'], [UPPER]: ['CACHED'], [VERSION]: ['CACHED'] });
    expect(contents(assets)).toEqual(before);
  });
});
