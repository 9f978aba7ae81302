// Where a process's tasks run, as Nextflow picks the executor (ExecutorFactory.getExecutorName):
// the process's `executor` (its directive, or the config's process scope, withLabel, withName),
// else the config's `executor` when a string (up to 25.04), else `executor.name`, else NXF_EXECUTOR, else local.
// What a patch needs there: only `local` runs on this machine's engine; every other executor's
// tasks pull their image where they run, so a patch must be in a registry they reach.

/** A process's executor as nfhot reads it before the run. */
export interface ExecutorSetting {
  /** Its name; undefined when nfhot cannot evaluate the setting (then `unknown` says why). */
  name?: string;
  /** Where it is set (file:line, and the selector), or what decided it (`the default`, `NXF_EXECUTOR`). */
  from: string;
  unknown?: string;
}

/** How far an executor's tasks are from this machine's container engine. */
export type Reach = 'local' | 'grid' | 'cloud' | 'other';

/** Nextflow's batch schedulers (BUILT_IN_EXECUTORS but local and nope): tasks on nodes with their own engine. */
const GRID = [
  'slurm',
  'sge',
  'oge',
  'uge',
  'lsf',
  'bsc',
  'pbs',
  'pbspro',
  'moab',
  'oar',
  'condor',
  'nqsii',
  'hq',
  'flux',
  'bridge',
  'crg',
  'tcs',
];
/** The plugins' executors whose tasks run in a cloud service or a cluster of its own: never near this machine's engine. */
const CLOUD = ['awsbatch', 'google-batch', 'google-lifesciences', 'k8s', 'azurebatch', 'seqera'];

export function reachOf(executor: string): Reach {
  if (executor === 'local' || executor === 'nope') return 'local';
  if (GRID.includes(executor)) return 'grid';
  return CLOUD.includes(executor) ? 'cloud' : 'other';
}

/**
 * Why a patch only in this machine's engine cannot reach tasks of `executor`, and what to do;
 * undefined for the local executor (the patch is where the tasks run).
 */
export function strandedBy(executor: string, reference: string): string | undefined {
  const push = `push the patch to a registry they reach (nfhot push REGISTRY, or nfhot patch … --push REGISTRY): the include then gives them its digest`;
  switch (reachOf(executor)) {
    case 'local':
      return undefined;
    case 'grid':
      return `it runs on the '${executor}' executor, whose nodes pull ${reference} from a registry, and it is only in this machine's engine; ${push}`;
    case 'cloud':
      return `it runs on the '${executor}' executor, whose tasks never see this machine's engine: the include cannot work for it without a push; ${push}`;
    default:
      return `it runs on the '${executor}' executor, off this machine (an executor nfhot does not know), and ${reference} is only in this machine's engine; ${push}`;
  }
}
