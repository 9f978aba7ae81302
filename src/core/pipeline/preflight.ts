import { pluginSpec } from './plugin.js';
import { reachOf, strandedBy } from './executor.js';
import { condaFirst, type IncludePlan, type Override } from './include.js';
import type { PipelineModel, ProcessInstance } from './model.js';

/** Whether a run with the model's profiles gives one patched process its patch, and why. */
export interface Verdict {
  process: string;
  image: string;
  uses: boolean;
  /** The engine that runs it: docker, podman, singularity, …, or `none` (on the host). */
  engine: string;
  wave: boolean;
  /** What it runs: the patched reference, a SIF file, its own container, or nothing. */
  runs: string;
  why: string;
  /** Under Wave, what nf-hot (the plugin, with no include) does with the task instead. */
  plugin?: string;
}

/**
 * The preflight: for each process the include points at a patched image, what a run with the
 * model's profiles does with it. `included`: nextflow.config includes nfhot.config (else the run
 * needs `-c nfhot.config`); `{ with }`: the include is a file outside the pipeline, for `-c FILE`.
 */
export function preflight(model: PipelineModel, plan: IncludePlan, included: boolean | { with: string }): Verdict[] {
  const { engine, engines, wave } = model.run;
  const off = Boolean(plan.waveOff);
  const useful = Object.entries(model.profileEngines)
    .filter(([, e]) => e === 'docker' || e === 'podman')
    .map(([p]) => `-profile ${p}`)
    .join(' or ');
  return plan.overrides.flatMap((o) =>
    o.instances.map((i): Verdict => {
      const base: Omit<Verdict, 'uses' | 'runs' | 'why'> = {
        process: i.fqn ?? i.alias,
        image: o.image,
        engine: engine ?? 'none',
        wave: Boolean(wave) && !off,
      };
      const plugin =
        wave && engines.length === 1 && (engine === 'docker' || engine === 'podman') && pluginPastWave(o, i, wave);
      const [uses, runs, why] = said(model, o, i, off, included, useful);
      return { ...base, ...(plugin ? { plugin } : {}), uses, runs, why };
    }),
  );
}

type Said = [uses: boolean, runs: string, why: string];

/** One instance's verdict: whether it uses the patch, what it runs, and why. */
function said(
  model: PipelineModel,
  o: Override,
  i: ProcessInstance,
  off: boolean,
  included: boolean | { with: string },
  useful: string,
): Said {
  const { engine, engines, conda } = model.run;
  if (engines.length > 1)
    return [false, 'nothing', `Nextflow refuses to run with ${engines.join(' and ')} both enabled`];
  if (!engine)
    return [
      false,
      'no container',
      `${conda && i.conda ? 'it runs in a conda environment on the host' : 'it runs on the host'}: no container, so no patched image${useful ? ` (${useful} would run the patch)` : ''}`,
    ];
  if (included === false)
    return [
      false,
      `its own container (${o.image})`,
      `nextflow.config does not include nfhot.config: add includeConfig 'nfhot.config' as its last line (nfhot patch --add-include), or run with -c nfhot.config, or with nf-hot: -plugins ${pluginSpec()}`,
    ];
  if (engine === 'docker' || engine === 'podman') return dockerVerdict(model, o, i, engine, off, included);
  if (engine === 'singularity' || engine === 'apptainer') return singularityVerdict(o, i, engine);
  return [
    false,
    `its own container (${o.image})`,
    `the include gives ${engine} its own container: nfhot patches for Docker, Podman, Singularity and Apptainer`,
  ];
}

/** Under Wave, what nf-hot does with the task: it cannot switch Wave off nor clear a conda directive, so it takes the task past Wave. */
function pluginPastWave(o: Override, i: ProcessInstance, wave: NonNullable<PipelineModel['run']['wave']>): string {
  const direct = `runs ${o.reference} directly, not through Wave (which stays on for the other tasks)`;
  return !o.reference.includes('@sha256:')
    ? `${direct}: the Wave service cannot pull from this machine's daemon`
    : condaFirst(wave.strategy) && i.conda
      ? `${direct}: Wave's strategy would build its image from its conda environment`
      : 'gives Wave the pushed image';
}

/** Docker or Podman: the patched reference, unless the executor's nodes would not have it; through Wave, as the include arranges. */
function dockerVerdict(
  model: PipelineModel,
  o: Override,
  i: ProcessInstance,
  engine: string,
  off: boolean,
  included: true | { with: string },
): Said {
  const { wave } = model.run;
  const stranding = stranded(i, o);
  if (stranding) return [false, o.reference, stranding];
  if (!wave)
    return [
      true,
      o.reference,
      `${where(i, engine)}${typeof included === 'object' ? ` (in a run with -c ${included.with})` : ''}`,
    ];
  if (off)
    return [
      true,
      o.reference,
      `Wave cannot pull an image from this machine's daemon: the include switches Wave off (every task runs its own container, not Wave's; -c nfhot.config or NXF_DISABLE_WAVE_SERVICE=1 make sure of it under either config parser)`,
    ];
  if (o.clearConda && i.conda)
    return [
      true,
      o.reference,
      `Wave's strategy (${wave.strategy.join(',')}) would build its image from its conda environment: the include clears its conda, so Wave takes the pushed image`,
    ];
  return [true, o.reference, 'Wave takes the pushed image'];
}

/** Singularity or Apptainer: the patch set's SIF file (where the tasks can see it), or the pushed patch pulled by digest. */
function singularityVerdict(o: Override, i: ProcessInstance, engine: string): Said {
  const executor = i.executor.name ?? 'local';
  if (o.sif && reachOf(executor) === 'cloud')
    return [
      false,
      o.sif,
      `the patch set's SIF file is on this machine, and the '${executor}' executor's tasks never see it: push the patch (nfhot push REGISTRY) for ${engine} to pull it by digest`,
    ];
  if (o.sif) return [true, o.sif, `${engine} runs the patch set's SIF file`];
  if (o.pull) return [true, o.pull, `${engine} pulls the pushed patch by digest and converts it into its cache`];
  return [
    false,
    `a SIF of ${o.image}`,
    `${engine} runs a SIF file of the original: push the patch (nfhot push REGISTRY) for ${engine} to pull it by digest, or build the SIF file here (nfhot patch --singularity)`,
  ];
}

/** Where the engine runs the patched image: here, on the executor's nodes (pulled by digest), or where nfhot cannot tell. */
function where(i: ProcessInstance, engine: string): string {
  const { name, unknown } = i.executor;
  if (!name)
    return `${engine} runs the patched image, on an executor nfhot cannot tell (${unknown}): unless it is local, the patch must be pushed`;
  return reachOf(name) === 'local'
    ? `${engine} runs the patched image`
    : `${engine} on the '${name}' executor pulls the pushed patch by digest`;
}

/** Why the process's tasks cannot pull a patch that is only in this machine's engine, where they run; undefined when they can. */
function stranded(i: ProcessInstance, o: Override): string | undefined {
  if (o.reference.includes('@sha256:') || !i.executor.name) return undefined;
  return strandedBy(i.executor.name, o.reference);
}
