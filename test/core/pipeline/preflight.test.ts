// The preflight and the include under each of nf-core's run profiles: which patched processes a
// run uses the patch in, and what the include does about Wave (read from nf-wave's resolver:
// the first of wave.strategy a task has wins; the service cannot pull from a local daemon).
import { describe, expect, it } from 'vitest';
import { planInclude, renderInclude } from '../../../src/core/pipeline/include.js';
import { scanPipeline } from '../../../src/core/pipeline/model.js';
import { preflight } from '../../../src/core/pipeline/preflight.js';
import { patchedImage, patchOf } from '../../helpers/patched.js';

const NFCORE = 'test/fixtures/pipelines/nfcore';
const patch = patchOf('seqstats');
const DERIVATIVE = 'nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa';
const PUSHED = `registry.example.org/team/quay.io/nfhot-example/seqstats@sha256:${'e'.repeat(64)}`;
const state = (pushed?: string) => patchedImage('quay.io/nfhot-example/seqstats:dev', DERIVATIVE, patch, pushed);

async function run(
  profiles: string[],
  { pushed = false, included = true, sif }: { pushed?: boolean; included?: boolean; sif?: string } = {},
) {
  const model = await scanPipeline(NFCORE, profiles);
  const plan = planInclude(model, [state(pushed ? PUSHED : undefined)], new Map(sif ? [[DERIVATIVE, sif]] : []));
  return { model, plan, text: renderInclude(plan), verdicts: preflight(model, plan, included) };
}

describe('the model of a run', () => {
  it('reads the engine, conda and Wave each profile combination sets, and which profile enables what', async () => {
    const { model } = await run(['docker', 'wave']);
    expect(model.run).toEqual({
      engine: 'docker',
      engines: ['docker'],
      conda: false,
      wave: { strategy: ['conda', 'container'] },
    });
    expect(model.waveProfiles).toEqual(['wave']);
    expect(model.profileEngines).toEqual({
      docker: 'docker',
      singularity: 'singularity',
      podman: 'podman',
      apptainer: 'apptainer',
    });
    expect((await run(['conda'])).model.run).toEqual({ engines: [], conda: true });
    expect(
      model.instances
        .filter((i) => i.conda)
        .map((i) => i.alias)
        .sort(),
    ).toEqual(['FASTQC', 'FASTQC_TRIMMED', 'MULTIQC', 'SEQSTATS_GC', 'SEQSTATS_GC_RAW']);
    // nf-core's engine profiles switch the others off: the later one wins.
    expect((await run(['docker', 'podman'])).model.run.engines).toEqual(['podman']);
  });
});

describe('preflight', () => {
  it('docker: the patched processes run the reference', async () => {
    const { verdicts, text } = await run(['docker']);
    expect(verdicts.map((v) => [v.process, v.uses, v.runs]).sort()).toEqual([
      ['NFCORE_DEMO:DEMO:SEQSTATS_GC', true, DERIVATIVE],
      ['NFCORE_DEMO:DEMO:SEQSTATS_GC_RAW', true, DERIVATIVE],
    ]);
    expect(text).not.toContain('wave.enabled');
  });

  it('docker,wave with the image only in the local daemon: the include switches Wave off, in the wave profile and at the top', async () => {
    const { plan, text, verdicts } = await run(['docker', 'wave']);
    expect(plan.waveOff).toEqual({ profiles: ['wave'] });
    // The profile first, then the top-level line: under Nextflow 24.10's parser a top-level `wave` written first takes the `wave` profile's
    // `wave.enabled` for itself, and the pipeline's profile then turns Wave back on (seen with the real Nextflow).
    expect(text).toMatch(
      /\nprofiles \{\n(?: {4}\w+ \{\n {4}\}\n)* {4}wave \{\n {8}wave\.enabled = false\n {4}\}\n(?: {4}\w+ \{\n {4}\}\n)*\}\nwave\.enabled = false\n$/,
    );
    expect(text).not.toContain('conda = null');
    expect(verdicts.every((v) => v.uses && v.runs === DERIVATIVE && !v.wave)).toBe(true);
    expect(verdicts[0]!.why).toContain('the include switches Wave off');
  });

  it("docker,wave after a push: Wave stays on, and the processes' conda is cleared so that its conda-first strategy takes the pushed image", async () => {
    const { plan, text, verdicts } = await run(['docker', 'wave'], { pushed: true });
    expect(plan.waveOff).toBeUndefined();
    expect(text).not.toContain('wave.enabled');
    expect(text).toContain(
      `container = { workflow.containerEngine in ['docker', 'podman'] ? '${PUSHED}' : workflow.containerEngine in ['singularity', 'apptainer'] ? 'docker://${PUSHED}' : 'nfhot-example/seqstats:dev' }\n        // Wave's strategy puts conda first: without a conda environment it takes the pushed image above.\n        conda = null\n    }`,
    );
    expect(verdicts.every((v) => v.uses && v.wave && v.runs === PUSHED)).toBe(true);
    expect(verdicts[0]!.why).toContain('the include clears its conda');
  });

  it('conda, mamba: no container, the patch cannot apply; says which profiles would run it', async () => {
    for (const p of ['conda', 'mamba']) {
      const { verdicts } = await run([p]);
      expect(verdicts.map((v) => v.uses)).toEqual([false, false]);
      expect(verdicts[0]!.engine).toBe('none');
      expect(verdicts[0]!.why).toBe(
        'it runs in a conda environment on the host: no container, so no patched image (-profile docker or -profile podman would run the patch)',
      );
    }
  });

  it('singularity and apptainer: the SIF file when nfhot built one, else not the patch', async () => {
    expect((await run(['singularity'])).verdicts[0]).toMatchObject({ uses: false, engine: 'singularity' });
    expect((await run(['apptainer'], { sif: '/cache/x.sif' })).verdicts[0]).toMatchObject({
      uses: true,
      runs: '/cache/x.sif',
    });
  });

  it('not included by nextflow.config: not used, and says how to include it', async () => {
    const { verdicts } = await run(['docker'], { included: false });
    expect(verdicts[0]).toMatchObject({ uses: false });
    expect(verdicts[0]!.why).toContain("add includeConfig 'nfhot.config' as its last line");
  });

  it('two engines at once: Nextflow refuses to run', async () => {
    const { model, plan } = await run(['docker']);
    const both = { ...model, run: { ...model.run, engines: ['docker' as const, 'singularity' as const] } };
    expect(preflight(both, plan, true)[0]).toMatchObject({
      uses: false,
      why: 'Nextflow refuses to run with docker and singularity both enabled',
    });
  });
});
