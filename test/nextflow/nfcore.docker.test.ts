// The real Nextflow on a pipeline in the nf-core template's shape (profiles docker, podman,
// singularity, apptainer, conda, wave, test; withName and ext.args closures; docker.registry;
// both forms of the engine ternary; env { PYTHONNOUSERSITE = 1 }), with MultiQC from PyPI: run
// with -profile docker,test, MultiQC patched from a fix branch, -resume.
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import { buildExampleImage, copyPipeline, expectNfhotReadsAsNextflowRan, NEXTFLOW_ENV, nextflowOnPath, nextflowRun, statuses } from '../helpers/nextflow.js';
import { sdistRepo } from '../helpers/pypi.js';
import { git } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const MULTIQC_IMAGE = `community.wave.seqera.io/${PREFIX}/multiqc:1.35--nfhot0`;
const SEQSTATS_IMAGE = `quay.io/${PREFIX}/seqstats:1.0.0--nfhot0`;
const MULTIQC = 'NFCORE_DEMO:DEMO:MULTIQC';
const SEQSTATS = 'NFCORE_DEMO:DEMO:SEQSTATS';
const LINES = 'NFCORE_DEMO:DEMO:COUNT_LINES';

describe('an nf-core-shaped pipeline under the real Nextflow', () => {
  beforeAll(async () => {
    await Promise.all([buildExampleImage(SEQSTATS_IMAGE, BASE), docker('tag', BASE, `quay.io/${PREFIX}/coreutils:9.1--nfhot0`), docker('tag', inject('images')['pypi-multiqc']!, MULTIQC_IMAGE)]);
    return async () => {
      await cleanupRepo(`quay.io/${PREFIX}`);
      await cleanupRepo(`community.wave.seqera.io/${PREFIX}`);
    };
  }, 300_000);

  it('-profile docker,test: the patched MultiQC tasks run the fix (its version, the changed string, the env and ext.args the pipeline gives), the others are cached', async () => {
    const dir = copyPipeline('test/fixtures/pipelines/nfcore-run', { 'biocontainers/': `${PREFIX}/`, 'community.wave.seqera.io/library/': `community.wave.seqera.io/${PREFIX}/` });
    const run = (...args: string[]) => nextflowRun(dir, ['-profile', 'docker,test', ...args]);
    const first = await run();
    expect(first.exitCode, first.all).toBe(0);
    expect(statuses(first.rows)).toEqual({ [LINES]: ['COMPLETED'], [MULTIQC]: ['COMPLETED'], [SEQSTATS]: ['COMPLETED'] });
    await expectNfhotReadsAsNextflowRan(dir, 'docker,test', first.rows);
    expect(readFileSync(join(dir, 'results/multiqc/multiqc.txt'), 'utf8')).toBe('multiqc, version 1.35\nfix: - PYTHONNOUSERSITE=1 args: --title nfhot\n');

    const repo = await sdistRepo('multiqc');
    await git(repo.dir, 'checkout', '-qb', 'fix');
    appendFileSync(join(repo.dir, 'multiqc/__init__.py'), '\nNFHOT_FIX = "nf-core-fix"\n');
    await git(repo.dir, 'commit', '-qam', 'fix');
    const patched = await nfhot(['patch', `git+${repo.url}@fix`, '--profile', 'docker,test', '--add-include'], { cwd: dir });
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(patched.stderr).toContain(`skipped ${SEQSTATS_IMAGE}: it has no multiqc`);
    expect(patched.stderr).toContain(`skipped quay.io/${PREFIX}/coreutils:9.1--nfhot0: it has no multiqc`);

    const second = await run('-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows)).toEqual({ [LINES]: ['CACHED'], [MULTIQC]: ['COMPLETED'], [SEQSTATS]: ['CACHED'] });
    expect(second.rows.find((r) => r.process === MULTIQC)!.container).toBe(patched.stdout.trim());
    expect(readFileSync(join(dir, 'results/multiqc/multiqc.txt'), 'utf8')).toBe('multiqc, version 1.35\nfix: nf-core-fix PYTHONNOUSERSITE=1 args: --title nfhot\n');
    await expectNfhotReadsAsNextflowRan(dir, 'docker,test', second.rows);

    const env = { PATH: nextflowOnPath(), ...NEXTFLOW_ENV };
    const inspected = await nfhot(['config', '--check', '--profile', 'docker,test'], { cwd: dir, env });
    expect(inspected.stderr).toMatch(/nextflow inspect agrees on 3 process\(es\); 0 difference\(s\)/);
    // With Wave on in the profiles (the include rewritten for them): the preflight says the patch is used, and the real
    // `nextflow config` resolves wave.enabled to the include's false.
    // (Were Wave left on, the offline inspect would fail for want of the nf-wave plugin.)
    const check = await nfhot(['config', '--check', '--profile', 'docker,test,wave'], { cwd: dir, env });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`${MULTIQC}\\s+uses the patch: ${patched.stdout.trim().replace(/[.]/g, '\\.')}`));
    expect(check.stderr).toMatch(/nextflow inspect agrees on 3 process\(es\); 0 difference\(s\)/);
    const flat = await execa('nextflow', ['config', '-flat', '-profile', 'docker,test,wave', '.'], { cwd: dir, env });
    expect(flat.stdout).toMatch(/^wave\.enabled = false$/m);
    // A profile list the pipeline cannot run with (no input without `test`): Nextflow's reason is said, the rest stands.
    const failing = await nfhot(['config', '--check', '--profile', 'docker,wave'], { cwd: dir, env });
    expect(failing.exitCode, failing.stderr).toBe(0);
    expect(failing.stderr).toContain('nextflow inspect failed (Missing `fromPath` parameter');
  });
});
