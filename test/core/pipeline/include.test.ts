import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { includeReferences, planInclude, renderInclude } from '../../../src/core/pipeline/include.js';
import { scanPipeline, type PipelineModel, type ProcessInstance } from '../../../src/core/pipeline/model.js';
import { patchedImage, patchOf } from '../../helpers/patched.js';

const patch = patchOf('greet', '1.1.0');
const patched = (image: string, derivative: string) => patchedImage(image, derivative, patch);

/** Nextflow's rule: a selector applies to a process when it fully matches its declared name, alias or qualified name. */
const selects = (selector: string, i: ProcessInstance) =>
  [i.name, i.alias, i.fqn].some((n) => n !== undefined && new RegExp(`^(?:${selector})$`).test(n));

function expectExact(model: PipelineModel, selector: string, wanted: string[]): void {
  for (const i of model.instances)
    expect(selects(selector, i), `${i.fqn ?? i.alias} by ${selector}`).toBe(wanted.includes(i.fqn ?? i.alias));
}

describe('planInclude', () => {
  it('selects exactly the processes that run a patched image, by simple and qualified name', async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const plan = planInclude(model, [
      patched('quay.io/nfhot-example/seqstats:dev', 'nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa'),
    ]);
    expect(plan.overrides).toHaveLength(1);
    const [o] = plan.overrides;
    expect(o).toMatchObject({
      reference: 'nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa',
      fallback: "'nfhot-example/seqstats:dev'",
    });
    expect(o!.selector).toBe('(?:.*:)?(?:SEQSTATS_GC|SEQSTATS_GC_RAW)');
    expectExact(model, o!.selector, ['NFCORE_DEMO:DEMO:SEQSTATS_GC', 'NFCORE_DEMO:DEMO:SEQSTATS_GC_RAW']);
  });

  it('does not select an alias of the same process that runs another image', async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    // FASTQC and FASTQC_TRIMMED are one process; only FASTQC runs 0.12.1. A selector on the name
    // FASTQC would match both, so the include names the qualified name only.
    const plan = planInclude(model, [
      patched(
        'quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
        'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-bbbbbbbbbbbb',
      ),
    ]);
    expect(plan.overrides.map((o) => o.selector)).toEqual(['NFCORE_DEMO:DEMO:FASTQC']);
    expectExact(model, plan.overrides[0]!.selector, ['NFCORE_DEMO:DEMO:FASTQC']);
    expect(plan.overrides[0]!.fallback).toMatch(/^"\$\{ workflow.containerEngine == 'singularity'/);
  });

  it("matches images by Docker's name for them, and ignores images moved since the patch", async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const wave = planInclude(model, [
      patched('community.wave.seqera.io/library/multiqc:1.25.1--214f1a27a4e9a55a', 'nfhot.local/x:y-cccccccccccc'),
    ]);
    expect(wave.overrides.map((o) => o.reference)).toEqual(['nfhot.local/x:y-cccccccccccc']);
    expectExact(model, wave.overrides[0]!.selector, ['NFCORE_DEMO:DEMO:MULTIQC']);
    expect(
      planInclude(model, [{ ...patched('quay.io/nfhot-example/seqstats:dev', 'nfhot.local/x:y-d'), state: 'moved' }])
        .overrides,
    ).toEqual([]);
  });

  it('gives Nextflow a name that docker.registryOverride maps onto itself, and the tag for it', async () => {
    const model = {
      ...(await scanPipeline('test/fixtures/pipelines/nfcore')),
      registry: 'mirror.example.org',
      registryOverride: true,
    };
    model.instances = model.instances.map((i) =>
      i.alias === 'MULTIQC'
        ? {
            ...i,
            container: {
              ...(i.container as object),
              image: 'mirror.example.org/library/multiqc:1',
            } as ProcessInstance['container'],
          }
        : i,
    );
    const plan = planInclude(model, [
      patched('mirror.example.org/library/multiqc:1', 'nfhot.local/mirror.example.org/library/multiqc:1-dddddddddddd'),
    ]);
    expect(plan.overrides[0]!.reference).toBe(
      'mirror.example.org/nfhot.local/mirror.example.org/library/multiqc:1-dddddddddddd',
    );
    expect(plan.aliases).toEqual([
      {
        from: 'nfhot.local/mirror.example.org/library/multiqc:1-dddddddddddd',
        to: 'mirror.example.org/nfhot.local/mirror.example.org/library/multiqc:1-dddddddddddd',
      },
    ]);
  });
});

describe('planInclude after a push', () => {
  it('points the processes at the registry copy pinned by digest, which any worker can pull', async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const pinned = `registry.example.org/team/quay.io/nfhot-example/seqstats@sha256:${'e'.repeat(64)}`;
    const plan = planInclude(model, [
      {
        ...patched('quay.io/nfhot-example/seqstats:dev', 'nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa'),
        pushed: [pinned],
      },
    ]);
    expect(plan.overrides[0]!.reference).toBe(pinned);
    expect(renderInclude(plan)).toContain(`['docker', 'podman'] ? '${pinned}' :`);
    // docker.registryOverride would replace the registry's host: say so.
    const override = planInclude({ ...model, registry: 'mirror.example.org', registryOverride: true }, [
      { ...patched('quay.io/nfhot-example/seqstats:dev', 'nfhot.local/x:y-a'), pushed: [pinned] },
    ]);
    expect(override.notes.join('\n')).toMatch(
      /docker\.registryOverride replaces the host of registry\.example\.org.*push to mirror\.example\.org/,
    );
  });
});

describe('planInclude with a SIF file', () => {
  it("points Singularity and Apptainer runs at the patch set's file by absolute path; Docker/Podman keep the reference, the rest their own", async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const derivative = 'nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa';
    const sif = "/scratch/it's here/nfhot.local-quay.io-nfhot-example-seqstats-dev-aaaaaaaaaaaa.sif";
    const plan = planInclude(
      model,
      [patched('quay.io/nfhot-example/seqstats:dev', derivative)],
      new Map([[derivative, sif]]),
    );
    expect(plan.overrides[0]!.sif).toBe(sif);
    expect(renderInclude(plan)).toContain(
      `container = { workflow.containerEngine in ['docker', 'podman'] ? '${derivative}' : workflow.containerEngine in ['singularity', 'apptainer'] ? '/scratch/it\\'s here/nfhot.local-quay.io-nfhot-example-seqstats-dev-aaaaaaaaaaaa.sif' : 'nfhot-example/seqstats:dev' }`,
    );
    // Without a file, Singularity keeps the process's own setting.
    expect(
      renderInclude(planInclude(model, [patched('quay.io/nfhot-example/seqstats:dev', derivative)])),
    ).not.toContain("['singularity', 'apptainer']");
  });

  it('reads singularity/apptainer settings of the config, string literals only', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tempDir } = await import('../../helpers/repos.js');
    const dir = tempDir('nfhot-pipeline-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'main.nf'),
      'process A {\n  container "org/tool:dev"\n  script: "true"\n}\nworkflow { A() }\n',
    );
    writeFileSync(
      join(dir, 'nextflow.config'),
      `workDir = '/scratch/work'\nprofiles {\n  apptainer { apptainer.enabled = true; apptainer.cacheDir = "/sif/cache" }\n  singularity { singularity.enabled = true; singularity.cacheDir = "\${HOME}/sif" }\n}\n`,
    );
    expect((await scanPipeline(dir, ['apptainer'])).sif).toEqual({
      enabled: 'apptainer',
      cacheDir: { apptainer: '/sif/cache' },
      workDir: '/scratch/work',
    });
    expect((await scanPipeline(dir, ['singularity'])).sif).toEqual({
      enabled: 'singularity',
      cacheDir: {},
      workDir: '/scratch/work',
    });
    expect((await scanPipeline(dir, [])).sif).toEqual({ cacheDir: {}, workDir: '/scratch/work' });
  });
});

describe('renderInclude', () => {
  it('writes one withName block per override: the reference under Docker/Podman, the own setting otherwise', async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const text = renderInclude(
      planInclude(model, [
        patched(
          'quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
          'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-bbbbbbbbbbbb',
        ),
      ]),
    );
    expect(text).toContain("withName: 'NFCORE_DEMO:DEMO:FASTQC' {");
    expect(text).toContain(
      "container = { workflow.containerEngine in ['docker', 'podman'] ? 'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-bbbbbbbbbbbb' : \"${ workflow.containerEngine == 'singularity'",
    );
    expect(text).toContain(
      `//   greet 1.1.0 from git+file:///r@fix (fix), commit cccccccccccc, patched 2026-12-07T10:00:00.000Z`,
    );
    // Balanced, so Nextflow parses it: braces outside strings and comments.
    const code = text
      .split('\n')
      .filter((l) => !l.trim().startsWith('//'))
      .join('\n')
      .replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, '');
    expect(code.split('{').length).toBe(code.split('}').length);
  });

  it('overrides nothing, and stays valid, when nothing is patched: the template shipped in nextflow/ as it is', () => {
    const text = renderInclude({ overrides: [], aliases: [], profiles: [], notes: [] });
    expect(text).toBe(readFileSync('nextflow/nfhot.config', 'utf8'));
    expect(text).toContain('this file overrides nothing');
    expect(text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'))).toEqual([]);
    expect(includeReferences(text)).toEqual([]);
  });

  it("declares the pipeline's profiles, empty, patched or not (-c nfhot.config under 25.04's strict parser, which knows only the last file's profiles)", async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const declared = (text: string) =>
      text
        .slice(text.indexOf('\nprofiles {\n'))
        .split('\n')
        .filter((l) => /^ {4}[^\s}]/.test(l))
        .map((l) => l.trim());
    const unpatched = renderInclude(planInclude(model, []));
    expect(unpatched).toContain('this file overrides nothing');
    expect(declared(unpatched)).toEqual(model.availableProfiles.map((p) => `${p} {`));
    const derivative = 'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-bbbbbbbbbbbb';
    const text = renderInclude(
      planInclude(model, [patched('quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0', derivative)]),
    );
    expect(declared(text)).toEqual(model.availableProfiles.map((p) => `${p} {`));
    expect(text).toMatch(/\n {4}docker \{\n {4}\}\n/);
    expect(renderInclude({ overrides: [], aliases: [], profiles: ['my-site'], notes: [] })).toContain(
      "\n    'my-site' {\n    }\n",
    );
  });

  it("keeps the template's header above the overrides, and its references read back", async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const derivative = 'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-bbbbbbbbbbbb';
    const template = '// a header\n// of two lines\n\n// Nothing is patched: this file overrides nothing.\n';
    const text = renderInclude(
      planInclude(model, [patched('quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0', derivative)]),
      template,
    );
    expect(text.startsWith('// a header\n// of two lines\n\nprocess {\n')).toBe(true);
    expect(text).not.toContain('Nothing is patched');
    expect(includeReferences(text)).toEqual([derivative]);
  });
});
