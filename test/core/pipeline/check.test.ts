import { describe, expect, it } from 'vitest';
import { compareWithNextflow, parseInspect, readFlat } from '../../../src/core/pipeline/check.js';
import { planInclude } from '../../../src/core/pipeline/include.js';
import { scanPipeline } from '../../../src/core/pipeline/model.js';

// What `nextflow inspect -profile docker -format json .` prints (ContainersInspector.renderJson),
// after Nextflow's own launch lines.
const RECORDED = `N E X T F L O W  ~  version 25.10.0
Launching \`main.nf\` [golden_curie] DSL2 - revision: 4b7f2a
{
    "processes": [
        { "name": "NFCORE_DEMO:DEMO:FASTQC", "container": "quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0" },
        { "name": "NFCORE_DEMO:DEMO:FASTQC_TRIMMED", "container": "quay.io/biocontainers/fastqc:0.11.9--0" },
        { "name": "NFCORE_DEMO:DEMO:SEQSTATS_GC_RAW", "container": "nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa" },
        { "name": "NFCORE_DEMO:DEMO:SEQSTATS_GC", "container": "quay.io/nfhot-example/seqstats:dev" },
        { "name": "NFCORE_DEMO:DEMO:DYNAMIC", "container": "quay.io/tools/dynamic:1.0" },
        { "name": "NFCORE_DEMO:DEMO:MULTIQC", "container": "quay.io/library/multiqc:1.25.1" },
        { "name": "NFCORE_DEMO:DEMO:EXTRA", "container": null }
    ]
}
`;

describe('compareWithNextflow', () => {
  it("agrees where Nextflow reports the same image (or the include's reference) and lists the rest", async () => {
    const model = await scanPipeline('test/fixtures/pipelines/nfcore');
    const plan = planInclude(model, [
      {
        image: 'quay.io/nfhot-example/seqstats:dev',
        state: 'patched',
        originalId: 'sha256:o',
        derivative: 'nfhot.local/quay.io/nfhot-example/seqstats:dev-aaaaaaaaaaaa',
        patches: [],
      },
    ]);
    const overrides = plan.overrides.map((o) => ({
      reference: o.reference,
      processes: o.instances.map((i) => i.fqn ?? i.alias),
    }));
    const result = compareWithNextflow(model, overrides, parseInspect(RECORDED));
    expect(result.agree).toBe(4);
    expect(result.differences).toEqual([
      'NFCORE_DEMO:DEMO:DYNAMIC: Nextflow says quay.io/tools/dynamic:1.0; nfhot could not resolve it (it depends on params.registry (no config sets it))',
      'NFCORE_DEMO:DEMO:MULTIQC: Nextflow says quay.io/library/multiqc:1.25.1, nfhot says community.wave.seqera.io/library/multiqc:1.25.1--214f1a27a4e9a55a',
      "NFCORE_DEMO:DEMO:EXTRA: Nextflow runs it, nfhot's model does not have it",
    ]);
  });

  it('reads the output without log lines too', () => {
    expect(parseInspect('{"processes":[{"name":"A","container":"x:1"}]}')).toEqual([{ name: 'A', container: 'x:1' }]);
  });
});

describe('readFlat', () => {
  // What `nextflow config -flat -profile docker,slurm .` printed (24.10.6) for the example with an executor scope added.
  const FLAT =
    "docker.registry = 'quay.io'\ndocker.enabled = true\nprocess.executor = 'slurm'\nexecutor.name = 'sge'\nexecutor.queueSize = 4\nwave.enabled = false\n";

  it('reads Wave and the executor of a process that sets none: process.executor, else executor.name, else a plain executor', () => {
    expect(readFlat(FLAT)).toEqual({ waveEnabled: false, executor: 'slurm' });
    expect(readFlat(FLAT.replace("process.executor = 'slurm'\n", ''))).toEqual({ waveEnabled: false, executor: 'sge' });
    expect(readFlat("executor = 'lsf'\n")).toEqual({ executor: 'lsf' });
    expect(readFlat('docker.enabled = true\n')).toEqual({});
  });
});
