// The processes a run's params select are the ones nfhot reads: an nf-core-shaped pipeline in
// strict syntax (test/fixtures/pipelines/strict), whose subworkflows `--platform` and `--aligner`
// choose, run by the real Nextflow under the tier's parser (its trace: which processes ran, with
// which container) and read by nfhot with the same params.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nfhot } from '../helpers/cli.js';
import { cleanupRepo, docker } from '../helpers/docker.js';
import { copyPipeline, nextflowRun } from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';
import { BASE } from '../fixtures/images.mjs';

const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const QUAY = `quay.io/${PREFIX}`;
const WAVE = `community.wave.seqera.io/${PREFIX}`;
const IMAGES = [
  `${QUAY}/fastqc:0.12.1--hdfd78af_0`,
  `${QUAY}/nanoplot:1.44.1--pyhdfd78af_0`,
  `${QUAY}/samtools:1.21--h50ea8bc_0`,
  `${WAVE}/multiqc:1.35--nfhot0`,
  `${WAVE}/star:2.7.11b--nfhot0`,
  `${WAVE}/hisat2:2.2.1--nfhot0`,
  `${WAVE}/samtools:1.21--star`,
];

/** A copy of the pipeline whose images (modules and config) are the test's own. */
function pipeline(): string {
  const dir = copyPipeline('test/fixtures/pipelines/strict', {
    'biocontainers/': `${PREFIX}/`,
    'community.wave.seqera.io/library/': `${WAVE}/`,
  });
  const modules = join(dir, 'conf', 'modules.config');
  writeFileSync(modules, readFileSync(modules, 'utf8').replaceAll('community.wave.seqera.io/library/', `${WAVE}/`));
  return dir;
}

const S = 'NFCORE_STRICT';
const PARAMS_FILE = join(tempDir(), 'nanopore.yaml');
writeFileSync(PARAMS_FILE, '# as nf-core launch writes one\nplatform: nanopore\n');

describe("a run's params, read by nfhot as the real Nextflow runs them", () => {
  beforeAll(async () => {
    for (const image of IMAGES) await docker('tag', BASE, image);
    return async () => {
      await cleanupRepo(QUAY);
      await cleanupRepo(WAVE);
    };
  }, 300_000);

  it.each([
    [
      "--platform illumina (the config's aligner, star)",
      ['--platform', 'illumina'],
      ['--param', 'platform=illumina'],
      [`${S}:FASTQC`, `${S}:ALIGN_STAR:STAR_ALIGN`, `${S}:ALIGN_STAR:SAMTOOLS_SORT`, `${S}:MULTIQC`],
    ],
    [
      '--platform illumina --aligner hisat2',
      ['--platform', 'illumina', '--aligner', 'hisat2'],
      ['--param', 'platform=illumina', '--param', 'aligner=hisat2'],
      [`${S}:FASTQC`, `${S}:ALIGN_HISAT2:HISAT2_ALIGN`, `${S}:ALIGN_HISAT2:SAMTOOLS_SORT`, `${S}:MULTIQC`],
    ],
    [
      '-params-file (YAML) with platform: nanopore',
      ['-params-file', PARAMS_FILE],
      ['--params-file', PARAMS_FILE],
      [`${S}:NANOPLOT`, `${S}:MULTIQC`],
    ],
    ['no --platform (the config leaves it unset)', [], [], [`${S}:MULTIQC`]],
  ])(
    '%s',
    async (_, runArgs, nfhotArgs, processes) => {
      const dir = pipeline();
      // The input on the command line too: under 25.04's strict parser, with a -c file (the trace's) and params on the
      // command line, a param that a profile's included config sets (the test profile's input) is lost.
      const run = await nextflowRun(dir, [
        '-profile',
        'docker,test',
        '--input',
        join(dir, 'assets', 'reads.txt'),
        ...runArgs,
      ]);
      expect(run.exitCode, run.all).toBe(0);
      const ran = Object.fromEntries(run.rows.map((r) => [r.process, r.container]));
      expect(Object.keys(ran).sort()).toEqual([...processes].sort());
      expect(run.rows.every((r) => r.status === 'COMPLETED')).toBe(true);

      const read = await nfhot([
        'config',
        '--dry-run',
        '--json',
        '--pipeline',
        dir,
        '--profile',
        'docker,test',
        ...nfhotArgs,
      ]);
      expect(read.exitCode, read.stderr).toBe(0);
      const runs = (JSON.parse(read.stdout) as { runs: { process: string; container: string | null }[] }).runs;
      expect(Object.fromEntries(runs.map((r) => [r.process, r.container]))).toEqual(ran);
    },
    240_000,
  );
});
