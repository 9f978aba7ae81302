// Where each process's tasks run, read as Nextflow picks the executor, and what a patch only in
// this machine's engine means there: refused for every executor but local, until pushed; under
// Singularity/Apptainer a pushed patch is pulled by digest.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reachOf } from '../../../src/core/pipeline/executor.js';
import { planInclude, renderInclude } from '../../../src/core/pipeline/include.js';
import { scanPipeline } from '../../../src/core/pipeline/model.js';
import { preflight } from '../../../src/core/pipeline/preflight.js';
import { patchedImage, patchOf } from '../../helpers/patched.js';
import { writePipeline } from '../../helpers/pipeline.js';

const IMAGE = 'quay.io/lab/tool:1.0';
const DERIVATIVE = 'nfhot.local/quay.io/lab/tool:1.0-aaaaaaaaaaaa';
const PUSHED = `127.0.0.1:5000/lab/quay.io/lab/tool@sha256:${'e'.repeat(64)}`;
const patch = patchOf('tool');
const state = (pushed?: string) => patchedImage(IMAGE, DERIVATIVE, patch, pushed);

/** Three processes of one image (ALIGN labelled process_high), the config given after the docker profile. */
function pipeline(config: string, directive = ''): string {
  const dir = writePipeline({ ALIGN: IMAGE, SORT: IMAGE, REPORT: IMAGE });
  if (directive)
    writeFileSync(
      join(dir, 'modules/sort/main.nf'),
      `process SORT {\n    ${directive}\n    container '${IMAGE}'\n\n    script:\n    "true"\n}\n`,
    );
  writeFileSync(
    join(dir, 'modules/align/main.nf'),
    `process ALIGN {\n    label 'process_high'\n    container '${IMAGE}'\n\n    script:\n    "true"\n}\n`,
  );
  appendFileSync(join(dir, 'nextflow.config'), `${config}\n`);
  return dir;
}

const executors = async (dir: string, profiles = ['docker']) =>
  Object.fromEntries(
    (await scanPipeline(dir, profiles)).instances.map((i) => [i.alias, i.executor.name ?? `? ${i.executor.unknown}`]),
  );

describe('the executor of each process', () => {
  const env = process.env.NXF_EXECUTOR;
  afterEach(() => (env === undefined ? delete process.env.NXF_EXECUTOR : (process.env.NXF_EXECUTOR = env)));

  it('is local when nothing sets one, else NXF_EXECUTOR', async () => {
    const dir = pipeline('');
    expect(await executors(dir)).toEqual({ ALIGN: 'local', SORT: 'local', REPORT: 'local' });
    expect((await scanPipeline(dir, ['docker'])).instances[0]!.executor).toEqual({
      name: 'local',
      from: 'the default',
    });
    process.env.NXF_EXECUTOR = 'slurm';
    expect(await executors(dir)).toEqual({ ALIGN: 'slurm', SORT: 'slurm', REPORT: 'slurm' });
  });

  it('follows process.executor in a profile, then withLabel, then withName, and the directive over the process default', async () => {
    const dir = pipeline(
      [
        'profiles {',
        "    slurm { process.executor = 'slurm' }",
        "    cloud { process { withLabel: 'process_high' { executor = 'awsbatch' } } }",
        '}',
        "process { withName: 'REPORT' { executor = 'local' } }",
      ].join('\n'),
      "executor 'pbspro'",
    );
    expect(await executors(dir)).toEqual({ ALIGN: 'local', SORT: 'pbspro', REPORT: 'local' });
    expect(await executors(dir, ['docker', 'slurm'])).toEqual({ ALIGN: 'slurm', SORT: 'pbspro', REPORT: 'local' });
    expect(await executors(dir, ['docker', 'slurm', 'cloud'])).toEqual({
      ALIGN: 'awsbatch',
      SORT: 'pbspro',
      REPORT: 'local',
    });
    const align = (await scanPipeline(dir, ['docker', 'slurm', 'cloud'])).instances.find((i) => i.alias === 'ALIGN')!;
    expect(align.executor.from).toMatch(/^nextflow\.config:\d+ \(withLabel: 'process_high'\)$/);
  });

  it('reads the executor scope when the process sets none: executor.name, and a plain executor string as up to 25.04', async () => {
    expect(await executors(pipeline("executor {\n    name = 'sge'\n    queueSize = 10\n}"))).toEqual({
      ALIGN: 'sge',
      SORT: 'sge',
      REPORT: 'sge',
    });
    expect(await executors(pipeline("executor = 'lsf'"))).toEqual({ ALIGN: 'lsf', SORT: 'lsf', REPORT: 'lsf' });
    expect(await executors(pipeline("executor.name = 'slurm'\nprocess.executor = 'k8s'"))).toEqual({
      ALIGN: 'k8s',
      SORT: 'k8s',
      REPORT: 'k8s',
    });
  });

  it('evaluates a param, and says what it cannot evaluate', async () => {
    const dir = pipeline("params.where = 'slurm'\nprocess.executor = params.where");
    expect(await executors(dir)).toEqual({ ALIGN: 'slurm', SORT: 'slurm', REPORT: 'slurm' });
    const unknown = await executors(pipeline('process.executor = params.unset_here'));
    expect(unknown.ALIGN).toMatch(/^\? it depends on params\.unset_here/);
  });

  it("reads the run's -c files after nextflow.config (a site's config), and not nfhot's own include given so", async () => {
    const dir = pipeline("process.executor = 'sge'");
    const site = join(dir, '..', 'site.config');
    writeFileSync(site, "process.executor = 'slurm'\nprocess.clusterOptions = '--account=lab'\n");
    writeFileSync(join(dir, 'nfhot.config'), "process.executor = 'local'\n");
    const model = await scanPipeline(dir, ['docker'], undefined, { configs: [site, join(dir, 'nfhot.config')] });
    expect(model.configs).toEqual([site]);
    expect(model.instances.map((i) => [i.alias, i.executor.name, i.executor.from])).toEqual([
      ['ALIGN', 'slurm', '../site.config:1'],
      ['SORT', 'slurm', '../site.config:1'],
      ['REPORT', 'slurm', '../site.config:1'],
    ]);
  });

  it('says which executors each profile sets, for a patch made without that profile', async () => {
    const model = await scanPipeline(
      pipeline(
        "profiles {\n    slurm { process.executor = 'slurm' }\n    cloud { process { withLabel: 'process_high' { executor = 'awsbatch' } } }\n    here { executor.name = 'local' }\n}",
      ),
      ['docker'],
    );
    expect(model.profileExecutors).toEqual({ slurm: ['slurm'], cloud: ['awsbatch'] });
  });

  it('classifies the executors Nextflow knows', () => {
    expect(
      [
        'local',
        'slurm',
        'pbspro',
        'lsf',
        'sge',
        'flux',
        'hq',
        'k8s',
        'awsbatch',
        'google-batch',
        'azurebatch',
        'my-plugin',
      ].map(reachOf),
    ).toEqual(['local', 'grid', 'grid', 'grid', 'grid', 'grid', 'grid', 'cloud', 'cloud', 'cloud', 'cloud', 'other']);
  });
});

describe('a patch and the executors', () => {
  async function verdicts(config: string, profiles: string[], pushed?: string) {
    const model = await scanPipeline(pipeline(config), profiles);
    const plan = planInclude(model, [state(pushed)]);
    return {
      text: renderInclude(plan),
      verdicts: Object.fromEntries(preflight(model, plan, true).map((v) => [v.process, v])),
    };
  }
  const CONFIG =
    "profiles {\n    slurm { process.executor = 'slurm' }\n}\nprocess { withName: 'REPORT' { executor = 'local' } }\nprocess { withLabel: 'process_high' { executor = 'google-batch' } }";

  it('local only under a grid or cloud executor: not used, naming the executor and the push; local tasks as before', async () => {
    const { verdicts: v } = await verdicts(CONFIG, ['docker', 'slurm']);
    expect(v['PIPE:SORT']).toMatchObject({ uses: false, runs: DERIVATIVE });
    expect(v['PIPE:SORT']!.why).toBe(
      `it runs on the 'slurm' executor, whose nodes pull ${DERIVATIVE} from a registry, and it is only in this machine's engine; push the patch to a registry they reach (nfhot push REGISTRY, or nfhot patch … --push REGISTRY): the include then gives them its digest`,
    );
    expect(v['PIPE:ALIGN']!.why).toMatch(
      /^it runs on the 'google-batch' executor, whose tasks never see this machine's engine: the include cannot work for it without a push; push the patch/,
    );
    expect(v['PIPE:REPORT']).toMatchObject({ uses: true, runs: DERIVATIVE, why: 'docker runs the patched image' });
  });

  it('pushed: every executor pulls the digest', async () => {
    const { verdicts: v, text } = await verdicts(CONFIG, ['docker', 'slurm'], PUSHED);
    expect(Object.values(v).every((x) => x.uses && x.runs === PUSHED)).toBe(true);
    expect(v['PIPE:SORT']!.why).toBe(`docker on the 'slurm' executor pulls the pushed patch by digest`);
    expect(text).toContain(`'${PUSHED}'`);
  });

  it('Singularity and Apptainer: a pushed patch is pulled by digest (docker://), under any executor', async () => {
    const config = `${CONFIG}\nprofiles {\n    singularity { singularity.enabled = true }\n    apptainer { apptainer.enabled = true }\n}`;
    const { text, verdicts: v } = await verdicts(config, ['singularity', 'slurm'], PUSHED);
    expect(text).toContain(
      `container = { workflow.containerEngine in ['docker', 'podman'] ? '${PUSHED}' : workflow.containerEngine in ['singularity', 'apptainer'] ? 'docker://${PUSHED}' : '${IMAGE}' }`,
    );
    expect(v['PIPE:SORT']).toMatchObject({
      uses: true,
      engine: 'singularity',
      runs: `docker://${PUSHED}`,
      why: 'singularity pulls the pushed patch by digest and converts it into its cache',
    });
    const local = await verdicts(config, ['apptainer']);
    expect(local.text).not.toContain('docker://');
    expect(local.verdicts['PIPE:SORT']).toMatchObject({ uses: false });
    expect(local.verdicts['PIPE:SORT']!.why).toContain(
      'push the patch (nfhot push REGISTRY) for apptainer to pull it by digest',
    );
  });
});
