import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyContainer, DOCKER_FACTS, normalizeDockerName } from '../../../src/core/pipeline/container.js';
import { scanPipeline, type ProcessInstance } from '../../../src/core/pipeline/model.js';
import { writeSyntheticPipeline } from '../../fixtures/pipelines/synthetic.mjs';

const NFCORE = 'test/fixtures/pipelines/nfcore';
const summary = (instances: ProcessInstance[]) =>
  Object.fromEntries(
    instances.map((i) => [
      i.fqn ?? i.alias,
      i.container?.kind === 'image' ? i.container.image : i.container ? `? ${i.container.why}` : null,
    ]),
  );

describe('scanPipeline on an nf-core shaped pipeline', () => {
  it('finds every process, its aliases and qualified names, and the image each runs under Docker', async () => {
    const model = await scanPipeline(NFCORE);
    expect(model.profiles).toEqual(['docker']);
    expect(model.availableProfiles).toEqual([
      'debug',
      'conda',
      'mamba',
      'docker',
      'singularity',
      'podman',
      'apptainer',
      'wave',
      'test',
    ]);
    expect(model.registry).toBe('quay.io');
    expect(summary(model.instances)).toEqual({
      // the engine ternary, Docker branch, with docker.registry prepended
      'NFCORE_DEMO:DEMO:FASTQC': 'quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
      // an alias, overridden by a withName regex in conf/modules.config
      'NFCORE_DEMO:DEMO:FASTQC_TRIMMED': 'quay.io/biocontainers/fastqc:0.11.9--0',
      // a community.wave.seqera.io name is absolute: no registry added
      'NFCORE_DEMO:DEMO:MULTIQC': 'community.wave.seqera.io/library/multiqc:1.25.1--214f1a27a4e9a55a',
      'NFCORE_DEMO:DEMO:SEQSTATS_GC': 'quay.io/nfhot-example/seqstats:dev',
      'NFCORE_DEMO:DEMO:SEQSTATS_GC_RAW': 'quay.io/nfhot-example/seqstats:dev',
      'NFCORE_DEMO:DEMO:DYNAMIC': '? it depends on params.registry (no config sets it)',
    });
    const trimmed = model.instances.find((i) => i.alias === 'FASTQC_TRIMMED')!;
    expect(trimmed).toMatchObject({
      name: 'FASTQC',
      file: 'modules/nf-core/fastqc/main.nf',
      labels: ['process_medium'],
    });
    expect(trimmed.container).toMatchObject({
      from: "conf/modules.config:10 (withName: '.*:FASTQC_TRIMMED')",
      text: "'biocontainers/fastqc:0.11.9--0'",
    });
    expect(model.notes.join('\n')).toMatch(/not followed: includeConfig !System.getenv/);
  });

  it("takes the selected profiles into account, in the config's own precedence", async () => {
    const model = await scanPipeline(NFCORE, ['docker', 'test']);
    // withName: 'SEQSTATS_GC' in conf/test.config matches the declared name, so the alias too
    expect(summary(model.instances)['NFCORE_DEMO:DEMO:SEQSTATS_GC']).toBe('quay.io/nfhot-example/seqstats:test');
    expect(summary(model.instances)['NFCORE_DEMO:DEMO:SEQSTATS_GC_RAW']).toBe('quay.io/nfhot-example/seqstats:test');
  });

  it('reads the example pipeline: an alias, the ternary, docker.registry, and a second image', async () => {
    const model = await scanPipeline('examples');
    expect(summary(model.instances)).toEqual({
      'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC': 'quay.io/biocontainers/seqstats:1.0.0--nfhot0',
      'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_GC_UPPER': 'quay.io/biocontainers/seqstats:1.0.0--nfhot0',
      'NFHOT_EXAMPLE:SEQSTATS:SEQSTATS_VERSION': 'quay.io/biocontainers/seqstats:1.0.0--nfhot0',
      'NFHOT_EXAMPLE:SEQSTATS:COUNT_LINES': 'quay.io/biocontainers/coreutils:9.1--nfhot0',
    });
  });

  it('reads a synthetic pipeline of 500 modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfhot-500-'));
    try {
      writeSyntheticPipeline(dir, 500);
      const model = await scanPipeline(dir);
      expect(model.instances).toHaveLength(500);
      const s = summary(model.instances);
      expect(s['PIPE:TOOL0']).toBe('community.wave.seqera.io/library/tool0:1.0--abc');
      expect(s['PIPE:TOOL1']).toBe('quay.io/biocontainers/override:2');
      expect(s['PIPE:TOOL499']).toBe('quay.io/biocontainers/tool499:1.0--0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('container settings', () => {
  it.each([
    [`'org/tool:1'`, 'org/tool:1'],
    [`"org/tool:1"`, 'org/tool:1'],
    [
      `"\${ workflow.containerEngine == 'singularity' && !task.ext.singularity_pull_docker_container ? 'https://x/y' : 'biocontainers/y:1' }"`,
      'biocontainers/y:1',
    ],
    [`workflow.containerEngine in ['singularity', 'apptainer'] ? 'oras://x' : 'docker/y:2'`, 'docker/y:2'],
    [`workflow.containerEngine != 'singularity' ? 'docker/z:3' : 'https://z'`, 'docker/z:3'],
    [
      `"\${ task.ext?.singularity_pull_docker_container || workflow.containerEngine == 'singularity' ? 'https://a' : 'b/c:1' }"`,
      'b/c:1',
    ],
  ])('reads %s as the Docker image %s', (text, image) => {
    // In a process whose config sets no ext.singularity_pull_docker_container: task.ext gives null.
    expect(classifyContainer(text, '', { ...DOCKER_FACTS, ext: () => null })).toMatchObject({ kind: 'image', image });
  });

  it.each([
    [`{ task.attempt > 1 ? 'a:1' : 'b:1' }`, /^it depends on task\.attempt \(known per task\)$/],
    [`"\${params.registry}/x:1"`, /^it depends on params\.registry \(no config sets it\)$/],
    ['params.image', /params\.image/],
    [`{ -> file('x').text }`, /^it depends on file\b/],
  ])('leaves %s unresolved, saying why', (text, why) => {
    expect(classifyContainer(text)).toMatchObject({ kind: 'unresolved', why: expect.stringMatching(why) });
  });

  it('normalises names as Nextflow does, docker.registryOverride included', () => {
    expect(normalizeDockerName('biocontainers/x:1', 'quay.io', false)).toBe('quay.io/biocontainers/x:1');
    expect(normalizeDockerName('ubuntu:22.04', 'quay.io', false)).toBe('quay.io/ubuntu:22.04');
    expect(normalizeDockerName('localhost/foo:t', 'quay.io', false)).toBe('quay.io/localhost/foo:t');
    expect(normalizeDockerName('localhost:5000/x:t', 'quay.io', false)).toBe('localhost:5000/x:t');
    expect(normalizeDockerName('community.wave.seqera.io/library/x:1', 'quay.io', false)).toBe(
      'community.wave.seqera.io/library/x:1',
    );
    expect(normalizeDockerName('community.wave.seqera.io/library/x:1', 'mirror.example.org', true)).toBe(
      'mirror.example.org/library/x:1',
    );
    expect(normalizeDockerName('biocontainers/x:1', undefined, false)).toBe('biocontainers/x:1');
  });
});

describe('the run a pipeline is read for', () => {
  it("applies the selected profiles as each parser does: the first in the file's order, the strict one in -profile's order (checked with the real Nextflow 25.04.4)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfhot-order-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(dir, 'nextflow.config'),
      "docker.enabled = true\nprofiles {\n    a {\n        docker.registry = 'a.io'\n    }\n    b {\n        docker.registry = 'b.io'\n    }\n}\n",
    );
    writeFileSync(
      join(dir, 'main.nf'),
      "process X {\n    container 'x/y:1'\n    script: 'true'\n}\nworkflow { X() }\n",
    );
    try {
      expect((await scanPipeline(dir, ['b', 'a'])).registry).toBe('b.io');
      expect((await scanPipeline(dir, ['b', 'a'], undefined, { syntax: 'v1' })).registry).toBe('b.io');
      const strict = await scanPipeline(dir, ['b', 'a'], undefined, { syntax: 'v2' });
      expect([strict.syntax, strict.registry, strict.instances[0]!.container]).toEqual([
        'v2',
        'a.io',
        expect.objectContaining({ image: 'a.io/x/y:1' }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the processes the run's params select, over the config's, and the types the config gives them", async () => {
    const called = async (params: Record<string, unknown>) =>
      (await scanPipeline('test/fixtures/pipelines/shapes', ['docker'], undefined, { params })).instances
        .filter((i) => !i.uncalled)
        .map((i) => i.fqn)
        .sort();
    expect((await called({})).every((p) => p!.startsWith('NFCORE_SHAPES:ILLUMINA:'))).toBe(true);
    expect(await called({ platform: 'nanopore' })).toEqual([
      'NFCORE_SHAPES:NANOPORE:MULTIQC',
      'NFCORE_SHAPES:NANOPORE:SEQSTATS',
    ]);
    expect(await called({ platform: 'pacbio' })).toEqual([]);
    // A string from the command line (the strict parser keeps them from 25.10) is a boolean where the config's default is one, as
    // 26.04 converts it: 'false' is false, not a true non-empty string; so LEGACY's `!params.singularity_pull_docker_container` holds.
    const legacy = async (value: unknown) =>
      (
        await scanPipeline('test/fixtures/pipelines/shapes', ['singularity'], undefined, {
          params: { singularity_pull_docker_container: value },
        })
      ).instances.find((i) => i.name === 'LEGACY')!.runs;
    expect(await legacy('false')).toMatchObject({ image: 'https://depot.galaxyproject.org/singularity/legacy:1.0--0' });
    expect(await legacy('true')).toMatchObject({ image: 'quay.io/biocontainers/legacy:1.0--0' });
  });
});
