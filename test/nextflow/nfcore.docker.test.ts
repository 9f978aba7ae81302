// The real Nextflow on a pipeline in the nf-core template's shape (profiles docker, podman,
// singularity, apptainer, conda, wave, test; withName and ext.args closures; docker.registry;
// both forms of the engine ternary; env { PYTHONNOUSERSITE = 1 }), with MultiQC from PyPI: run
// with -profile docker,test, MultiQC patched from a fix branch, -resume; through the include, and
// through nf-hot, the plugin, with no include.
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import {
  agreement,
  buildExampleImage,
  NEXTFLOW_VERSION,
  copyPipeline,
  expectNfhotReadsAsNextflowRan,
  NEXTFLOW_ENV,
  nextflowOnPath,
  hashes,
  nextflowRun,
  PLUGIN,
  statuses,
} from '../helpers/nextflow.js';
import { sdistRepo } from '../helpers/pypi.js';
import { git, tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const MULTIQC_IMAGE = `community.wave.seqera.io/${PREFIX}/multiqc:1.35--nfhot0`;
const SEQSTATS_IMAGE = `quay.io/${PREFIX}/seqstats:1.0.0--nfhot0`;
const MULTIQC = 'NFCORE_DEMO:DEMO:MULTIQC';
const SEQSTATS = 'NFCORE_DEMO:DEMO:SEQSTATS';
const LINES = 'NFCORE_DEMO:DEMO:COUNT_LINES';

/** MultiQC's repository with a fix branch whose commit changes the string the pipeline's output shows. */
async function multiqcFix(fix: string) {
  const repo = await sdistRepo('multiqc');
  await git(repo.dir, 'checkout', '-qb', 'fix');
  appendFileSync(join(repo.dir, 'multiqc/__init__.py'), `\nNFHOT_FIX = "${fix}"\n`);
  await git(repo.dir, 'commit', '-qam', 'fix');
  return repo;
}

describe('an nf-core-shaped pipeline under the real Nextflow', () => {
  beforeAll(async () => {
    await Promise.all([
      buildExampleImage(SEQSTATS_IMAGE, BASE),
      docker('tag', BASE, `quay.io/${PREFIX}/coreutils:9.1--nfhot0`),
      docker('tag', inject('images')['pypi-multiqc']!, MULTIQC_IMAGE),
    ]);
    return async () => {
      await cleanupRepo(`quay.io/${PREFIX}`);
      await cleanupRepo(`community.wave.seqera.io/${PREFIX}`);
    };
  }, 300_000);

  it('-profile docker,test: the patched MultiQC tasks run the fix (its version, the changed string, the env and ext.args the pipeline gives), the others are cached', async () => {
    const dir = copyPipeline('test/fixtures/pipelines/nfcore-run', {
      'biocontainers/': `${PREFIX}/`,
      'community.wave.seqera.io/library/': `community.wave.seqera.io/${PREFIX}/`,
    });
    const run = (...args: string[]) => nextflowRun(dir, ['-profile', 'docker,test', ...args]);
    const first = await run();
    expect(first.exitCode, first.all).toBe(0);
    expect(statuses(first.rows)).toEqual({
      [LINES]: ['COMPLETED'],
      [MULTIQC]: ['COMPLETED'],
      [SEQSTATS]: ['COMPLETED'],
    });
    await expectNfhotReadsAsNextflowRan(dir, 'docker,test', first.rows);
    expect(readFileSync(join(dir, 'results/multiqc/multiqc.txt'), 'utf8')).toBe(
      'multiqc, version 1.35\nfix: - PYTHONNOUSERSITE=1 args: --title nfhot\n',
    );

    const repo = await multiqcFix('nf-core-fix');
    const patched = await nfhot(['patch', `git+${repo.url}@fix`, '--profile', 'docker,test', '--add-include'], {
      cwd: dir,
    });
    expect(patched.exitCode, patched.stderr).toBe(0);
    expect(patched.stderr).toContain(`skipped ${SEQSTATS_IMAGE}: it has no multiqc`);
    expect(patched.stderr).toContain(`skipped quay.io/${PREFIX}/coreutils:9.1--nfhot0: it has no multiqc`);

    const second = await run('-resume');
    expect(second.exitCode, second.all).toBe(0);
    expect(statuses(second.rows)).toEqual({ [LINES]: ['CACHED'], [MULTIQC]: ['COMPLETED'], [SEQSTATS]: ['CACHED'] });
    expect(second.rows.find((r) => r.process === MULTIQC)!.container).toBe(patched.stdout.trim());
    expect(readFileSync(join(dir, 'results/multiqc/multiqc.txt'), 'utf8')).toBe(
      'multiqc, version 1.35\nfix: nf-core-fix PYTHONNOUSERSITE=1 args: --title nfhot\n',
    );
    await expectNfhotReadsAsNextflowRan(dir, 'docker,test', second.rows);

    const env = { PATH: nextflowOnPath(), ...NEXTFLOW_ENV };
    const inspected = await nfhot(['config', '--check', '--profile', 'docker,test'], { cwd: dir, env });
    expect(inspected.stderr).toMatch(agreement(3, 3));
    // With Wave on in the profiles (the include rewritten for them): the preflight says the patch is used, and the real
    // `nextflow config` resolves wave.enabled to the include's false.
    // (Were Wave left on, the offline inspect would fail for want of the nf-wave plugin.)
    const check = await nfhot(['config', '--check', '--profile', 'docker,test,wave'], { cwd: dir, env });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(`${MULTIQC}\\s+uses the patch: ${patched.stdout.trim().replace(/[.]/g, '\\.')}`),
    );
    expect(check.stderr).toMatch(agreement(3, 3));
    const flat = await execa('nextflow', ['config', '-flat', '-profile', 'docker,test,wave', '.'], { cwd: dir, env });
    expect(flat.stdout).toMatch(/^wave\.enabled = false$/m);
    // A profile list the pipeline cannot run with (no input without `test`): Nextflow's reason is said, the rest stands.
    // (From 25.04 inspect does not run the entry workflow, and lists the processes without an input.)
    const failing = await nfhot(['config', '--check', '--profile', 'docker,wave'], { cwd: dir, env });
    expect(failing.exitCode, failing.stderr).toBe(0);
    if (NEXTFLOW_VERSION.startsWith('24.'))
      expect(failing.stderr).toContain('nextflow inspect failed (Missing `fromPath` parameter');
    else expect(failing.stderr).toMatch(agreement(3, 3));
    expect((await nfhot(['rollback', MULTIQC_IMAGE], { cwd: dir })).exitCode).toBe(0);
  }, 480_000); // about 115 s on a quiet machine: four Nextflow runs and a MultiQC patch

  it('-profile docker,test with nf-hot and no include: the same hashes while nothing is patched, the patch in the MultiQC tasks alone, the original back after a rollback', async () => {
    const dir = copyPipeline('test/fixtures/pipelines/nfcore-run', {
      'biocontainers/': `${PREFIX}/`,
      'community.wave.seqera.io/library/': `community.wave.seqera.io/${PREFIX}/`,
    });
    const installed = await nfhot(['plugin', 'install', '--nxf-home', NEXTFLOW_ENV.NXF_HOME]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    const run = (...args: string[]) => nextflowRun(dir, ['-profile', 'docker,test', ...args]);

    const plain = await run();
    expect(plain.exitCode, plain.all).toBe(0);
    const unpatched = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(unpatched.rows), unpatched.all).toEqual({
      [LINES]: ['CACHED'],
      [MULTIQC]: ['CACHED'],
      [SEQSTATS]: ['CACHED'],
    });
    expect(hashes(unpatched.rows)).toEqual(hashes(plain.rows));

    // Patched by image, from outside the pipeline: the pipeline stays as it was.
    const repo = await multiqcFix('plugin-fix');
    const patched = await nfhot(['patch', `git+${repo.url}@fix`, '--image', MULTIQC_IMAGE], { cwd: tempDir() });
    expect(patched.exitCode, patched.stderr).toBe(0);
    const fixed = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(fixed.rows), fixed.all).toEqual({
      [LINES]: ['CACHED'],
      [MULTIQC]: ['COMPLETED'],
      [SEQSTATS]: ['CACHED'],
    });
    expect(fixed.rows.find((r) => r.process === MULTIQC)!.container).toBe(patched.stdout.trim());
    expect(readFileSync(join(dir, 'results/multiqc/multiqc.txt'), 'utf8')).toBe(
      'multiqc, version 1.35\nfix: plugin-fix PYTHONNOUSERSITE=1 args: --title nfhot\n',
    );
    expect(fixed.log()).toContain(
      `nf-hot: ${MULTIQC_IMAGE} is patched (multiqc 1.35): its tasks run ${patched.stdout.trim()}`,
    );

    const rolled = await nfhot(['rollback', MULTIQC_IMAGE], { cwd: tempDir() });
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    const back = await run('-plugins', PLUGIN, '-resume');
    expect(statuses(back.rows), back.all).toEqual({
      [LINES]: ['CACHED'],
      [MULTIQC]: ['CACHED'],
      [SEQSTATS]: ['CACHED'],
    });
    expect(hashes(back.rows)).toEqual(hashes(plain.rows));
    // A resumed run publishes no cached output over what is there: the cached task's own output is the original's.
    const [bucket, prefix] = back.rows.find((r) => r.process === MULTIQC)!.hash.split('/') as [string, string];
    const task = readdirSync(join(dir, 'work', bucket)).find((d) => d.startsWith(prefix))!;
    expect(readFileSync(join(dir, 'work', bucket, task, 'multiqc.txt'), 'utf8')).toBe(
      'multiqc, version 1.35\nfix: - PYTHONNOUSERSITE=1 args: --title nfhot\n',
    );
  }, 480_000); // about 115 s on a quiet machine: four Nextflow runs and a MultiQC patch
});
