// nf-hot, nfhot's Nextflow plugin, under the real Nextflow: with no include and no -c, every task
// whose image nfhot patched runs the patch (the container Nextflow computed, looked up at run
// time), -resume reruns exactly those tasks, a rollback brings the original's results back, and
// a run with nothing patched hashes every task as a run without the plugin does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import { EXAMPLE, exampleImages, buildExampleImage, copyPipeline, NEXTFLOW_ENV, nextflowRun, seqstatsRepo, statuses, type TraceRow } from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const { SEQSTATS, COREUTILS } = exampleImages(PREFIX);
const { GC, UPPER, VERSION, LINES } = EXAMPLE;
const PLUGIN = `nf-hot@${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}`;

const containers = (rows: TraceRow[]) => Object.fromEntries(rows.map((r) => [r.process, r.container]));
const hashes = (rows: TraceRow[], but: string[] = []) => Object.fromEntries(rows.filter((r) => !but.includes(r.process)).map((r) => [r.name, r.hash]));

describe('nf-hot, the Nextflow plugin', () => {
  beforeAll(async () => {
    await buildExampleImage(SEQSTATS, BASE);
    await docker('tag', BASE, COREUTILS);
    const installed = await nfhot(['plugin', 'install', '--nxf-home', NEXTFLOW_ENV.NXF_HOME]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout.trim().split('\n').at(-1)).toBe(PLUGIN);
    return () => cleanupRepo(`quay.io/${PREFIX}`);
  }, 300_000);

  it('the example pipeline with no include: the same hashes as without the plugin while nothing is patched, the patch in exactly the patched tasks, the original back after a rollback', async () => {
    const dir = copyPipeline('examples', { 'biocontainers/': `${PREFIX}/` }, { untouched: true });
    const repo = await seqstatsRepo();
    const run = (...args: string[]) => nextflowRun(dir, ['-profile', 'docker', ...args]);

    const plain = await run();
    expect(statuses(plain.rows), plain.all).toEqual({ [LINES]: ['COMPLETED'], [GC]: ['FAILED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    // Nothing patched: the plugin changes no container and no hash.
    const unpatched = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(unpatched.rows), unpatched.all).toEqual({ [LINES]: ['CACHED'], [GC]: ['FAILED'], [UPPER]: ['CACHED'], [VERSION]: ['CACHED'] });
    expect(hashes(unpatched.rows, [GC])).toEqual(hashes(plain.rows, [GC]));
    expect(containers(unpatched.rows)).toEqual(containers(plain.rows));
    expect(unpatched.log()).toContain('Plugin started nf-hot@');

    // Patched from elsewhere, with no pipeline: no include is written or read.
    const patched = await nfhot(['patch', `git+file://${repo}@fix-lowercase`, '--image', SEQSTATS], { cwd: tempDir() });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fix = patched.stdout.trim();
    const second = await run('-plugins', PLUGIN, '-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows), second.all).toEqual({ [LINES]: ['CACHED'], [GC]: ['COMPLETED'], [UPPER]: ['COMPLETED'], [VERSION]: ['COMPLETED'] });
    expect(containers(second.rows)).toEqual({ [LINES]: COREUTILS, [GC]: fix, [UPPER]: fix, [VERSION]: fix });
    expect(readFileSync(join(dir, 'results/seqstats_gc/sequences.gc.tsv'), 'utf8')).toContain('ACGTacgt\tGC=0.50');
    expect(second.log()).toContain(`nf-hot: ${SEQSTATS} is patched (seqstats 1.0.1): its tasks run ${fix}`);

    // The same patch: nothing reruns.
    const third = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(third.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['CACHED'], [UPPER]: ['CACHED'], [VERSION]: ['CACHED'] });

    // Rolled back: the first run's tasks, by their hashes, and the original's container.
    expect((await nfhot(['rollback', SEQSTATS], { cwd: tempDir() })).exitCode).toBe(0);
    const fourth = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(fourth.rows)).toEqual({ [LINES]: ['CACHED'], [GC]: ['FAILED'], [UPPER]: ['CACHED'], [VERSION]: ['CACHED'] });
    expect(hashes(fourth.rows, [GC])).toEqual(hashes(plain.rows, [GC]));
    expect(containers(fourth.rows)).toEqual(containers(plain.rows));
  });
});
