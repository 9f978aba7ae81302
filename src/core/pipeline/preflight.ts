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
  const { engine, engines, conda, wave } = model.run;
  const off = Boolean(plan.waveOff);
  const verdicts: Verdict[] = [];
  const profiles = (kinds: string[]) =>
    Object.entries(model.profileEngines)
      .filter(([, e]) => kinds.includes(e))
      .map(([p]) => p);
  const useful = profiles(['docker', 'podman'])
    .map((p) => `-profile ${p}`)
    .join(' or ');
  for (const o of plan.overrides) {
    for (const i of o.instances) {
      const base: Omit<Verdict, 'uses' | 'runs' | 'why'> = {
        process: i.fqn ?? i.alias,
        image: o.image,
        engine: engine ?? 'none',
        wave: Boolean(wave) && !off,
      };
      if (wave && engines.length === 1 && (engine === 'docker' || engine === 'podman')) {
        // nf-hot cannot switch Wave off nor clear a conda directive: it takes the task past Wave instead.
        const direct = `runs ${o.reference} directly, not through Wave (which stays on for the other tasks)`;
        base.plugin = !o.reference.includes('@sha256:')
          ? `${direct}: the Wave service cannot pull from this machine's daemon`
          : condaFirst(wave.strategy) && i.conda
            ? `${direct}: Wave's strategy would build its image from its conda environment`
            : 'gives Wave the pushed image';
      }
      const say = (uses: boolean, runs: string, why: string) => verdicts.push({ ...base, uses, runs, why });
      if (engines.length > 1) {
        say(false, 'nothing', `Nextflow refuses to run with ${engines.join(' and ')} both enabled`);
      } else if (!engine) {
        say(
          false,
          'no container',
          `${conda && i.conda ? 'it runs in a conda environment on the host' : 'it runs on the host'}: no container, so no patched image${useful ? ` (${useful} would run the patch)` : ''}`,
        );
      } else if (included === false) {
        say(
          false,
          `its own container (${o.image})`,
          `nextflow.config does not include nfhot.config: add includeConfig 'nfhot.config' as its last line (nfhot patch --add-include), or run with -c nfhot.config, or with nf-hot: -plugins ${pluginSpec()}`,
        );
      } else if ((engine === 'docker' || engine === 'podman') && stranded(i, o)) {
        say(false, o.reference, stranded(i, o)!);
      } else if (engine === 'docker' || engine === 'podman') {
        if (!wave)
          say(
            true,
            o.reference,
            `${where(i, engine)}${typeof included === 'object' ? ` (in a run with -c ${included.with})` : ''}`,
          );
        else if (off)
          say(
            true,
            o.reference,
            `Wave cannot pull an image from this machine's daemon: the include switches Wave off (every task runs its own container, not Wave's; -c nfhot.config or NXF_DISABLE_WAVE_SERVICE=1 make sure of it under either config parser)`,
          );
        else if (o.clearConda && i.conda)
          say(
            true,
            o.reference,
            `Wave's strategy (${wave.strategy.join(',')}) would build its image from its conda environment: the include clears its conda, so Wave takes the pushed image`,
          );
        else say(true, o.reference, 'Wave takes the pushed image');
      } else if (engine === 'singularity' || engine === 'apptainer') {
        const executor = i.executor.name ?? 'local';
        if (o.sif && reachOf(executor) === 'cloud')
          say(
            false,
            o.sif,
            `the patch set's SIF file is on this machine, and the '${executor}' executor's tasks never see it: push the patch (nfhot push REGISTRY) for ${engine} to pull it by digest`,
          );
        else if (o.sif) say(true, o.sif, `${engine} runs the patch set's SIF file`);
        else if (o.pull) say(true, o.pull, `${engine} pulls the pushed patch by digest and converts it into its cache`);
        else
          say(
            false,
            `a SIF of ${o.image}`,
            `${engine} runs a SIF file of the original: push the patch (nfhot push REGISTRY) for ${engine} to pull it by digest, or build the SIF file here (nfhot patch --singularity)`,
          );
      } else {
        say(
          false,
          `its own container (${o.image})`,
          `the include gives ${engine} its own container: nfhot patches for Docker, Podman, Singularity and Apptainer`,
        );
      }
    }
  }
  return verdicts;
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
