// The pipeline's config as a run reads it: nextflow.config (and the home config before it, the
// run's -c files after it), includes followed in place, the selected profiles applied as each
// parser applies them; what it says of the run (the engine, conda, Wave, SIF files) and of each
// profile; the process scope as Nextflow merges it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { SifSettings } from '../image/singularity.js';
import { parseConfig, PROJECT_DIR, type ConfigEntry, type ConfigItem } from './config.js';
import { evaluate, Unknown } from './evaluate.js';
import type { Syntax } from './syntax.js';

/** nfhot's include, in the pipeline's directory, and the line of nextflow.config that includes it. */
export const INCLUDE_FILE = 'nfhot.config';
export const INCLUDE_LINE = `includeConfig '${INCLUDE_FILE}'`;

/** The container engines Nextflow knows; it refuses to run with more than one enabled. */
export const CONTAINER_ENGINES = [
  'docker',
  'podman',
  'singularity',
  'apptainer',
  'charliecloud',
  'shifter',
  'sarus',
] as const;
export type ContainerEngine = (typeof CONTAINER_ENGINES)[number];

/** How the selected profiles run the tasks. */
export interface RunSettings {
  /** The container engine enabled; none: tasks run on the host. */
  engine?: ContainerEngine;
  /** More than one engine enabled (Nextflow stops: "Cannot enable more than one container engine"). */
  engines: ContainerEngine[];
  /** conda.enabled: tasks that have a conda environment get it (on the host when no engine is on). */
  conda: boolean;
  /** wave.enabled: every task's container goes through the Wave service; the first of `strategy` a task has wins. */
  wave?: { strategy: string[] };
}

/** Wave's strategy when none is set (nf-wave's DEF_STRATEGIES). */
const WAVE_DEFAULT_STRATEGY = ['container', 'dockerfile', 'conda'];

/** wave.strategy as nf-wave reads it: comma-separated, trimmed; empty or unset is its default. */
export function waveStrategy(text: string | undefined): string[] {
  const strategy = (text ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return strategy.length ? strategy : WAVE_DEFAULT_STRATEGY;
}

/** A selector key's pattern as Nextflow matches it: a whole-string Java regex, `!` negating. */
export function selectorMatches(pattern: string, names: string[]): boolean {
  const negated = pattern.startsWith('!');
  const body = negated ? pattern.slice(1).trim() : pattern;
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${body})$`);
  } catch {
    return false;
  }
  return names.some((n) => regex.test(n)) !== negated;
}

/** Reads the config from nextflow.config, then the run's -c files, following includes in place (in profiles, under the profile). */
export async function loadConfig(dir: string, notes: string[], configs: string[] = []): Promise<ConfigItem[]> {
  const items: ConfigItem[] = [];
  const seen = new Set<string>();
  const read = async (file: string, scope: string[]) => {
    if (seen.has(file) || !existsSync(file)) {
      if (!existsSync(file)) notes.push(`config include ${relative(dir, file)} does not exist`);
      return;
    }
    seen.add(file);
    for (const item of parseConfig(await readFile(file, 'utf8'), relative(dir, file))) {
      if (item.kind === 'include') {
        const path = item.include.path.replaceAll(PROJECT_DIR, dir);
        if (resolve(dirname(file), path) === join(dir, INCLUDE_FILE)) continue; // nfhot's own overrides are not the pipeline's
        await read(resolve(dirname(file), path), [...scope, ...item.include.scope]);
      } else if (item.kind === 'entry') {
        items.push({ kind: 'entry', entry: { ...item.entry, path: [...scope, ...item.entry.path] } });
      } else if (item.kind === 'block') {
        items.push({ kind: 'block', path: [...scope, ...item.path] });
      } else if (item.what.startsWith('includeConfig')) {
        notes.push(`${relative(dir, file)}:${item.line}: not followed: ${item.what}`);
      }
    }
  };
  // Nextflow reads the home config first ($NXF_HOME/config, ~/.nextflow/config): its profiles and settings count too.
  const home = join(process.env.NXF_HOME || join(homedir(), '.nextflow'), 'config');
  if (existsSync(home)) await read(home, []);
  await read(join(dir, 'nextflow.config'), []);
  for (const c of configs) await read(c, []);
  return items;
}

/**
 * The settings that apply with `profiles` selected, in order, profile scopes removed. The first
 * parser applies a profile's settings where the file defines them; the strict one when the
 * `profiles` block ends, in the order -profile names them.
 */
export function effective(items: ConfigItem[], profiles: string[], syntax: Syntax = 'v1'): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  let block: ConfigEntry[] = [];
  const endOfBlock = () => {
    const order = (e: ConfigEntry) => profiles.indexOf(e.path[1]!);
    out.push(
      ...(syntax === 'v2' ? [...block].sort((a, b) => order(a) - order(b)) : block).map((e) => ({
        ...e,
        path: e.path.slice(2),
      })),
    );
    block = [];
  };
  for (const item of items) {
    const path = item.kind === 'entry' ? item.entry.path : item.kind === 'block' ? item.path : [];
    if (path[0] !== 'profiles') endOfBlock();
    if (item.kind !== 'entry') continue;
    if (path[0] !== 'profiles') out.push(item.entry);
    else if (path.length > 2 && profiles.includes(path[1]!)) block.push(item.entry);
  }
  endOfBlock();
  return out;
}

/**
 * Refuses a profile the config does not define, as Nextflow does (`standard` always passes; with
 * no nextflow.config nothing is checked). When a config include could not be followed, the profile
 * may be there: said, not refused.
 */
export function checkProfiles(selected: string[], available: string[], hasConfig: boolean, notes: string[]): void {
  const unknown = selected.filter((p) => p !== 'standard' && !available.includes(p));
  if (!unknown.length || !hasConfig) return;
  const what = `Unknown configuration profile: ${unknown.map((p) => `'${p}'`).join(', ')}`;
  if (notes.some((n) => n.includes('not followed'))) {
    notes.push(`${what} in what nfhot read (a config include it could not follow may define it)`);
    return;
  }
  const near = available.filter((a) => unknown.some((u) => closeTo(u, a)));
  throw new UsageError(
    what,
    near.length
      ? `did you mean one of these? ${near.join(', ')}`
      : `the pipeline's profiles: ${available.join(', ') || '(none)'}`,
  );
}

/** Whether two names are a typo apart (Nextflow suggests by edit distance). */
function closeTo(a: string, b: string): boolean {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]! <= Math.max(1, Math.floor(Math.min(a.length, b.length) / 3));
}

/** The profiles the config defines, in the order it first names them. */
export function profilesIn(items: ConfigItem[]): string[] {
  const pathOf = (i: ConfigItem) => (i.kind === 'entry' ? i.entry.path : i.kind === 'block' ? i.path : []);
  return [...new Set(items.flatMap((i) => (pathOf(i)[0] === 'profiles' && pathOf(i)[1] ? [pathOf(i)[1]!] : [])))];
}

/** The last value set at a dotted path, and the readings of it the model needs. */
export function settings(entries: ConfigEntry[]) {
  const last = (path: string) => entries.filter((e) => e.path.join('.') === path).pop()?.value;
  return {
    last,
    isOn: (path: string) => last(path)?.text.trim() === 'true',
    // Only plain string literals: a path built in Groovy is not nfhot's to guess (then Nextflow's defaults apply).
    literal: (path: string) =>
      /^\s*(?:'([^'$\\]*)'|"([^"$\\]*)")\s*$/
        .exec(last(path)?.text ?? '')
        ?.slice(1)
        .find((v) => v !== undefined),
  };
}

/** What the selected profiles make of the run, and what each profile turns on by itself. */
export interface RunConfig {
  sif: SifSettings;
  run: RunSettings;
  /** The profiles that enable Wave (the include switches it off under each, for a local run). */
  waveProfiles: string[];
  /** The container engine each profile enables, for those that enable one. */
  profileEngines: Record<string, ContainerEngine>;
  /** The executors other than local each profile sets (process.executor, executor.name, in a selector too), for those that set one. */
  profileExecutors: Record<string, string[]>;
}

export function runConfig(items: ConfigItem[], config: ConfigEntry[], selected: string[], notes: string[]): RunConfig {
  const { isOn, literal } = settings(config);
  const sif: SifSettings = {
    ...(isOn('apptainer.enabled')
      ? { enabled: 'apptainer' as const }
      : isOn('singularity.enabled')
        ? { enabled: 'singularity' as const }
        : {}),
    cacheDir: Object.fromEntries(
      (['singularity', 'apptainer'] as const).flatMap((e) =>
        literal(`${e}.cacheDir`) ? [[e, literal(`${e}.cacheDir`)!]] : [],
      ),
    ),
    ...(literal('workDir') ? { workDir: literal('workDir') } : {}),
  };
  const engines = CONTAINER_ENGINES.filter((e) => isOn(`${e}.enabled`));
  const run: RunSettings = {
    ...(engines[0] ? { engine: engines[0] } : {}),
    engines,
    conda: isOn('conda.enabled'),
    ...(isOn('wave.enabled') ? { wave: { strategy: waveStrategy(literal('wave.strategy')) } } : {}),
  };
  if (engines.length > 1)
    notes.push(
      `the profiles ${selected.join(',')} enable ${engines.join(' and ')}: Nextflow refuses to run with more than one container engine`,
    );
  // What each profile turns on, read with that profile alone.
  const waveProfiles: string[] = [];
  const profileEngines: Record<string, ContainerEngine> = {};
  for (const p of profilesIn(items)) {
    const own = settings(effective(items, [p]));
    if (own.isOn('wave.enabled')) waveProfiles.push(p);
    const engine = CONTAINER_ENGINES.find((e) => own.isOn(`${e}.enabled`));
    if (engine) profileEngines[p] = engine;
  }
  return { sif, run, waveProfiles, profileEngines, profileExecutors: profileExecutors(items) };
}

/** The executors each profile sets itself (a name only: what a patch must be pushed for). */
function profileExecutors(items: ConfigItem[]): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const item of items) {
    if (item.kind !== 'entry' || item.entry.path[0] !== 'profiles' || !item.entry.path[1]) continue;
    const [, profile, ...rest] = item.entry.path as [string, string, ...string[]];
    const key = rest.join('.');
    if (key !== 'executor' && key !== 'executor.name' && !(rest[0] === 'process' && rest.at(-1) === 'executor'))
      continue;
    const name = evaluate(item.entry.value.text, { engine: null, profile, param: () => new Unknown([]) });
    if (typeof name === 'string' && name.trim() && name.trim() !== 'local')
      found[profile] = [...new Set([...(found[profile] ?? []), name.trim()])];
  }
  return found;
}

/** The process scope as Nextflow merges it: its defaults, and per selector (in the place of its first appearance) the last value of each setting. */
export interface ProcessScope {
  defaults: Map<string, ConfigEntry>;
  selectors: Map<string, Map<string, ConfigEntry>>;
}

export function processScope(config: ConfigEntry[]): ProcessScope {
  const scope: ProcessScope = { defaults: new Map(), selectors: new Map() };
  for (const e of config) {
    if (e.path[0] !== 'process' || e.path.length < 2) continue;
    const selector = /^with(Name|Label):/.test(e.path[1]!) ? e.path[1]! : undefined;
    const setting = e.path.slice(selector ? 2 : 1).join('.');
    if (!selector) scope.defaults.set(setting, e);
    else {
      const own = scope.selectors.get(selector) ?? new Map<string, ConfigEntry>();
      if (setting) own.set(setting, e);
      scope.selectors.set(selector, own);
    }
  }
  return scope;
}

/**
 * A setting as a process gets it: the config's `process` default, the script's directive (`own`),
 * then withLabel, then withName (its declared name, its alias, its qualified name).
 */
export function processSetting(
  scope: ProcessScope,
  setting: string,
  process: { file: string; labels: string[]; names: string[] },
  own?: { text: string; line: number },
) {
  const dflt = scope.defaults.get(setting);
  let chosen: { text: string; from: string } | undefined = own
    ? { text: own.text, from: `${process.file}:${own.line}` }
    : dflt && { text: dflt.value.text, from: `${dflt.file}:${dflt.value.line}` };
  const apply = (kind: 'withLabel' | 'withName', targets: string[]) => {
    for (const [key, settings] of scope.selectors) {
      const entry = settings.get(setting);
      if (entry && key.startsWith(`${kind}:`) && selectorMatches(key.slice(kind.length + 1), targets)) {
        chosen = { text: entry.value.text, from: `${entry.file}:${entry.value.line} (${key.replace(':', ": '")}')` };
      }
    }
  };
  apply('withLabel', process.labels.length ? process.labels : ['']);
  for (const n of process.names) apply('withName', [n]);
  return chosen;
}
