// What nfhot writes for Nextflow parses under the parser this tier runs (24.10.6: the first;
// 25.04.4: NXF_SYNTAX_PARSER v1 and v2): the include in each of its forms, included by the line
// `--add-include` writes, or given with -c on a pipeline whose files are left as they are.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PatchRecord } from '../../src/core/image/record.js';
import type { ImageState } from '../../src/core/image/state.js';
import { planInclude, renderInclude } from '../../src/core/pipeline/include.js';
import { addIncludeLine } from '../../src/core/pipeline/include-file.js';
import { scanPipeline } from '../../src/core/pipeline/model.js';
import { installWaveStandIn, NEXTFLOW_ENV, NEXTFLOW_VERSION, nextflowBin } from '../helpers/nextflow.js';
import { tempDir } from '../helpers/repos.js';

const patch: PatchRecord = {
  package: 'multiqc',
  version: '1.35',
  source: "git+https://example.org/it's/multiqc@fix",
  kind: 'git',
  ref: 'fix',
  commit: 'c'.repeat(40),
  tree: 't',
  noDeps: false,
  python: '/opt/conda/bin/python3',
  at: '2026-12-07T10:00:00.000Z',
};
const MULTIQC = 'community.wave.seqera.io/library/multiqc:1.35--nfhot0';
// Apptainer runs its Docker name (the module's ternary asks for 'singularity' alone).
const SEQSTATS = 'quay.io/biocontainers/seqstats:1.0.0--nfhot0';
const derivative = (image: string) => `nfhot.local/${image}-aaaaaaaaaaaa`;
const PUSHED = `127.0.0.1:5000/lab/${MULTIQC.split(':')[0]}@sha256:${'e'.repeat(64)}`;
const state = (image: string, pushed?: string): ImageState => ({
  image,
  state: 'patched',
  mode: 'tag',
  originalId: 'sha256:o',
  currentId: 'sha256:c',
  derivative: derivative(image),
  patches: [patch],
  ...(pushed ? { pushed: [pushed] } : {}),
});
const quoted = (text: string) => new RegExp(`'${text.replace(/[.*?[\]\\]/g, '\\$&')}'`);

/** Each form of the include: the profiles it is written for, what is patched, the SIF files nfhot built; and what Nextflow's resolved config must show of it. */
const FORMS: [string, string[], ImageState[], Record<string, string>, RegExp][] = [
  ['nothing patched', ['docker'], [], {}, /^docker \{\n(?: {3}.*\n)* {3}enabled = true$/m],
  ['a patch in the local daemon', ['docker'], [state(MULTIQC)], {}, quoted(derivative(MULTIQC))],
  ['a pushed patch (a digest)', ['docker'], [state(MULTIQC, PUSHED)], {}, quoted(PUSHED)],
  [
    'a SIF file for Apptainer',
    ['apptainer'],
    [state(SEQSTATS)],
    { [derivative(SEQSTATS)]: "/data/sif/it's here.sif" },
    /\['singularity', 'apptainer'\] \? '\/data\/sif\/it\\'s here\.sif'/,
  ],
  [
    'Wave switched off (a local patch)',
    ['docker', 'wave'],
    [state(MULTIQC)],
    {},
    /^wave \{\n(?: {3}.*\n)* {3}enabled = false$/m,
  ],
  ['conda cleared for Wave (a pushed patch)', ['docker', 'wave'], [state(MULTIQC, PUSHED)], {}, /^ {6}conda = null$/m],
];

/** A copy of the nf-core-shaped pipeline (written for both parsers) with the include of this form. */
async function pipelineWith(
  profiles: string[],
  states: ImageState[],
  sifs: Record<string, string>,
  { declareProfiles = true } = {},
) {
  const dir = join(tempDir(), 'pipeline');
  cpSync('test/fixtures/pipelines/nfcore-run', dir, { recursive: true });
  const plan = planInclude(await scanPipeline(dir, profiles), states, new Map(Object.entries(sifs)));
  expect(plan.overrides.length).toBe(states.length);
  writeFileSync(join(dir, 'nfhot.config'), renderInclude(declareProfiles ? plan : { ...plan, profiles: [] }));
  return dir;
}

/** `nextflow [-c FILE] config -profile PROFILES .`: the config Nextflow resolves. */
const config = (dir: string, profiles: string[], c: string[] = []) =>
  execa(nextflowBin(), [...c, 'config', '-profile', profiles.join(','), '.'], {
    cwd: dir,
    env: NEXTFLOW_ENV,
    reject: false,
    all: true,
  });
const strict25 = NEXTFLOW_VERSION.startsWith('25.04') && process.env.NXF_SYNTAX_PARSER === 'v2';

describe(`the include under Nextflow ${NEXTFLOW_VERSION}'s ${process.env.NXF_SYNTAX_PARSER === 'v2' ? 'strict' : 'first'} config parser`, () => {
  // The strict parser loads the plugins a config turns on (nf-wave for wave.enabled) to check it.
  beforeAll(() => installWaveStandIn(NEXTFLOW_ENV.NXF_HOME));

  it.each(FORMS)(
    '%s: parsed with includeConfig, and with -c',
    async (_, profiles, states, sifs, gives) => {
      const dir = await pipelineWith(profiles, states, sifs);
      const c = await config(dir, profiles, ['-c', 'nfhot.config']);
      expect(c.exitCode, c.all).toBe(0);
      expect(c.stdout).toMatch(gives);
      expect(await addIncludeLine(dir)).toBe(true);
      const included = await config(dir, profiles);
      expect(included.exitCode, included.all).toBe(0);
      expect(included.stdout).toMatch(gives);
    },
    120_000,
  );

  it("-c nfhot.config needs the pipeline's profiles declared in it under 25.04's strict parser, and only there", async () => {
    const dir = await pipelineWith(['docker'], [state(MULTIQC)], {}, { declareProfiles: false });
    const run = await config(dir, ['docker'], ['-c', 'nfhot.config']);
    if (strict25) expect(run.all).toContain("Unknown configuration profile: 'docker'");
    else expect(run.exitCode, run.all).toBe(0);
  }, 120_000);
});
