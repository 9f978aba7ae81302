import type { PipelineModel, ProcessInstance } from './model.js';

/** One process as `nextflow inspect -format json` lists it. */
export interface InspectedProcess {
  name: string;
  container: string | null;
}

export interface CheckResult {
  /** Processes on which nfhot and Nextflow agree. */
  agree: number;
  /** Where they differ, one line each. */
  differences: string[];
  /** wave.enabled as `nextflow config -flat` resolves it (the include with it), when it says. */
  waveEnabled?: boolean;
  /** The executor of a process that sets none, as `nextflow config -flat` resolves it (process.executor, else executor.name), when it says. */
  executor?: string;
}

/** What `nextflow config -flat` says of Wave and of the default executor. */
export function readFlat(stdout: string): Pick<CheckResult, 'waveEnabled' | 'executor'> {
  const value = (key: string) =>
    new RegExp(`^${key.replace(/\./g, '\\.')}\\s*=\\s*(?:'([^']*)'|"([^"]*)"|(\\S+))\\s*$`, 'm')
      .exec(stdout)
      ?.slice(1)
      .find((v) => v !== undefined);
  const wave = value('wave.enabled');
  const executor =
    value('process.executor') ??
    value('executor.name') ??
    (value('executor') !== undefined && !/^[[{]/.test(value('executor')!) ? value('executor') : undefined);
  return {
    ...(wave === 'true' || wave === 'false' ? { waveEnabled: wave === 'true' } : {}),
    ...(executor ? { executor } : {}),
  };
}

/** Reads `nextflow inspect -format json` output: `{"processes": [{"name", "container"}]}`, maybe after log lines. */
export function parseInspect(stdout: string): InspectedProcess[] {
  const start = stdout.indexOf('{');
  const parsed = JSON.parse(start >= 0 ? stdout.slice(start) : stdout) as { processes?: InspectedProcess[] };
  return parsed.processes ?? [];
}

/**
 * Compares nfhot's model with what Nextflow reports. A patched process may show either its own
 * image or the reference the include gives it (Nextflow reports the include when it is active).
 * `definitions`: Nextflow lists each process definition by its simple name, as `inspect` does from
 * 25.04 on (it does not run the entry workflow, so a selector on a qualified name is not applied
 * there): each must show what one of the processes made of that definition runs.
 */
export function compareWithNextflow(
  model: PipelineModel,
  overrides: { reference: string; processes: string[] }[],
  inspected: InspectedProcess[],
  definitions = false,
): CheckResult {
  const result: CheckResult = { agree: 0, differences: [] };
  const seen = new Set<string>();
  const nameOf = (i: ProcessInstance) => (definitions ? i.name : (i.fqn ?? i.alias));
  for (const p of inspected) {
    const mine = model.instances.filter((i) => nameOf(i) === p.name);
    if (!mine.length) {
      result.differences.push(
        `${p.name}: Nextflow ${definitions ? 'lists' : 'runs'} it, nfhot's model does not have it`,
      );
      continue;
    }
    seen.add(p.name);
    const expected: string[] = [];
    let unresolved: string | undefined;
    let none = false;
    for (const i of mine) {
      const process = i.fqn ?? i.alias;
      const override = overrides.find((o) => o.processes.includes(process));
      const c = i.runs !== undefined ? i.runs : i.container;
      if (c?.kind === 'image') expected.push(c.image, ...(override ? [override.reference] : []));
      else if (c?.kind === 'unresolved') unresolved = c.why;
      else if (!c) none = true;
    }
    if (unresolved && !expected.length)
      result.differences.push(
        `${p.name}: Nextflow says ${p.container ?? 'no container'}; nfhot could not resolve it (${unresolved})`,
      );
    else if (expected.includes(p.container ?? '') || (none && !p.container)) result.agree++;
    else
      result.differences.push(
        `${p.name}: Nextflow says ${p.container ?? 'no container'}, nfhot says ${expected[0] ?? 'no container'}`,
      );
  }
  for (const i of model.instances) {
    const name = definitions ? i.name : i.fqn;
    if (name && (definitions || !i.uncalled) && !seen.has(name)) {
      seen.add(name); // said once: a definition is several instances (its aliases)
      result.differences.push(`${name}: in nfhot's model, not in what Nextflow ${definitions ? 'lists' : 'runs'}`);
    }
  }
  return result;
}

/** What a process runs under the run's container engine, as nfhot reads the pipeline and its include. */
export interface ProcessRun {
  /** Its qualified name (as Nextflow names its tasks), else its simple name. */
  process: string;
  /** The image, or the include's reference when it is patched; null: no container; undefined: nfhot cannot tell statically. */
  container: string | null | undefined;
  /** Why nfhot cannot tell (what the container depends on). */
  unknown?: string;
  /** The executor its tasks run on (undefined: nfhot cannot tell). */
  executor?: string;
}

/** Per process, the container a run with the model's profiles gives it, the include applied. */
export function processRuns(
  model: PipelineModel,
  overrides: { reference: string; processes: string[] }[],
): ProcessRun[] {
  return model.instances
    .filter((i) => !i.uncalled)
    .map((i) => {
      const process = i.fqn ?? i.alias;
      const override = overrides.find((o) => o.processes.includes(process));
      const c = i.runs !== undefined ? i.runs : i.container;
      const container = override ? override.reference : c?.kind === 'image' ? c.image : c ? undefined : null;
      return {
        process,
        container,
        ...(container === undefined && c?.kind === 'unresolved' ? { unknown: c.why } : {}),
        ...(i.executor.name ? { executor: i.executor.name } : {}),
      };
    });
}
