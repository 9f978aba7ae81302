import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { UsageError } from '../base/errors.js';
import { parseConfig, PROJECT_DIR, type ConfigEntry, type ConfigItem } from './config.js';
import type { SifSettings } from '../image/singularity.js';
import { classifyContainer, dependsOn, normalizeDockerName, type ContainerValue } from './container.js';
import { evaluate, truthy, Unknown, type Facts, type Result, type Value } from './evaluate.js';
import type { ExecutorSetting } from './executor.js';
import { paramValue, type Params } from './params.js';
import type { Syntax } from './syntax.js';
import { parseScript, type Call, type ProcessDecl, type ScriptDecls, type Written } from './nf.js';

/** nfhot's include, in the pipeline's directory, and the line of nextflow.config that includes it. */
export const INCLUDE_FILE = 'nfhot.config';
export const INCLUDE_LINE = `includeConfig '${INCLUDE_FILE}'`;

/** One process as it runs: a declared process under one alias, in one calling workflow. */
export interface ProcessInstance {
  /** The name it is declared with (Nextflow's base name). */
  name: string;
  /** The name it is included as (its simple name); the declared name when not aliased. */
  alias: string;
  /** Fully qualified name (`WF:SUB:ALIAS`), when the calling workflows are visible. */
  fqn?: string;
  /** Script that declares it, relative to the pipeline directory. */
  file: string;
  labels: string[];
  /** The Docker image it runs (under Podman, Podman's): what a patch replaces; undefined when it has none. */
  container?: ContainerValue;
  /** What the selected engine runs when it is not Docker or Podman (Singularity's `https://…` branch, say), as `nextflow inspect` shows it. */
  runs?: ContainerValue | null;
  /** No call of it is reached from the entry workflow with these profiles and params (included, but not called). */
  uncalled?: true;
  /** It has a conda environment (its `conda` directive, or the config's `process` scope): under Wave with conda first, its image is built from it. */
  conda?: boolean;
  /** Where its tasks run: the executor Nextflow picks for it (`local` when nothing sets one). */
  executor: ExecutorSetting;
}

/** The container engines Nextflow knows; it refuses to run with more than one enabled. */
export const CONTAINER_ENGINES = ['docker', 'podman', 'singularity', 'apptainer', 'charliecloud', 'shifter', 'sarus'] as const;
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

/** How a run reads the pipeline: the parser it uses, and the params its command line gives. */
export interface Reading {
  syntax?: Syntax;
  params?: Params;
  /** The run's -c files (absolute), read after nextflow.config. */
  configs?: string[];
}

export interface PipelineModel {
  dir: string;
  /** The parser the pipeline was read as (v2: the strict one), and the run's params it was read with. */
  syntax: Syntax;
  params: Params;
  /** The run's -c files it was read with. */
  configs: string[];
  /** Where nfhot writes the pipeline's include: nfhot.config in its directory, or a file given (a pipeline whose files are not yours: nextflow run … -c FILE). */
  include: string;
  /** Profiles the model was computed with, and those the config defines. */
  profiles: string[];
  availableProfiles: string[];
  registry?: string;
  registryOverride: boolean;
  /** singularity/apptainer settings, for the SIF files of patched images. */
  sif: SifSettings;
  /** The engine, conda and Wave as the selected profiles set them. */
  run: RunSettings;
  /** The profiles that enable Wave (the include switches it off under each, for a local run). */
  waveProfiles: string[];
  /** The container engine each profile enables, for those that enable one. */
  profileEngines: Record<string, ContainerEngine>;
  /** The executors other than local each profile sets (process.executor, executor.name, in a selector too), for those that set one. */
  profileExecutors: Record<string, string[]>;
  instances: ProcessInstance[];
  /** What nfhot could not follow (an include it cannot resolve, a config include that is an expression). */
  notes: string[];
}

const IGNORE = ['**/work/**', '**/.nextflow/**', '**/results/**', '**/node_modules/**', '**/.git/**'];

/** The pipeline in `dir`: where it has a main.nf or a nextflow.config. */
export function isPipelineDir(dir: string): boolean {
  return existsSync(join(dir, 'main.nf')) || existsSync(join(dir, 'nextflow.config'));
}

/** The pipeline to read: --pipeline, else the current directory when it is one. */
export function pipelineDir(option: string | undefined): string | undefined {
  if (option !== undefined) {
    if (!isPipelineDir(option)) throw new UsageError(`${option} is not a pipeline directory: it has no main.nf or nextflow.config`);
    return option;
  }
  return isPipelineDir('.') ? '.' : undefined;
}

interface Component {
  kind: 'process' | 'workflow';
  file: string;
  name: string;
}

/** A selector key's pattern as Nextflow matches it: a whole-string Java regex, `!` negating. */
function selectorMatches(pattern: string, names: string[]): boolean {
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
async function loadConfig(dir: string, notes: string[], configs: string[] = []): Promise<ConfigItem[]> {
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
function effective(items: ConfigItem[], profiles: string[], syntax: Syntax = 'v1'): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  let block: ConfigEntry[] = [];
  const endOfBlock = () => {
    const order = (e: ConfigEntry) => profiles.indexOf(e.path[1]!);
    out.push(...(syntax === 'v2' ? [...block].sort((a, b) => order(a) - order(b)) : block).map((e) => ({ ...e, path: e.path.slice(2) })));
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

/** Where an include points, as Nextflow resolves it: NAME.nf, NAME/main.nf, or the file itself. */
function modulePath(owner: string, from: string): string | undefined {
  if (!from.startsWith('./') && !from.startsWith('../') && !from.startsWith('/')) return undefined;
  const path = resolve(dirname(owner), from);
  if (!path.endsWith('.nf') && existsSync(`${path}.nf`)) return `${path}.nf`;
  if (existsSync(path) && statSync(path).isDirectory()) return existsSync(join(path, 'main.nf')) ? join(path, 'main.nf') : undefined;
  return existsSync(path) ? path : undefined;
}

/**
 * Refuses a profile the config does not define, as Nextflow does (`standard` always passes; with
 * no nextflow.config nothing is checked). When a config include could not be followed, the profile
 * may be there: said, not refused.
 */
function checkProfiles(selected: string[], available: string[], hasConfig: boolean, notes: string[]): void {
  const unknown = selected.filter((p) => p !== 'standard' && !available.includes(p));
  if (!unknown.length || !hasConfig) return;
  const what = `Unknown configuration profile: ${unknown.map((p) => `'${p}'`).join(', ')}`;
  if (notes.some((n) => n.includes('not followed'))) {
    notes.push(`${what} in what nfhot read (a config include it could not follow may define it)`);
    return;
  }
  const near = available.filter((a) => unknown.some((u) => closeTo(u, a)));
  throw new UsageError(what, near.length ? `did you mean one of these? ${near.join(', ')}` : `the pipeline's profiles: ${available.join(', ') || '(none)'}`);
}

/** Whether two names are a typo apart (Nextflow suggests by edit distance). */
function closeTo(a: string, b: string): boolean {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]! <= Math.max(1, Math.floor(Math.min(a.length, b.length) / 3));
}

/**
 * A param the run gives, as the model's value: a string from the command line becomes a boolean
 * or a number where the config's own value is one (the strict parser keeps command-line strings
 * from 25.10, and converts them so from 26.04); a map is not followed.
 */
function runParam(value: unknown, configured: Result): Result {
  if (typeof value === 'string' && (typeof configured === 'boolean' || typeof configured === 'number')) return paramValue(value) as Value;
  const plain = (v: unknown): v is Value => v === null || ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every(plain));
  return plain(value) ? value : new Unknown([`a map of params`]);
}

/** An executor setting's value: a name, nothing (null or empty: the next setting decides), or what it depends on. */
function executorValue(value: Result): Omit<ExecutorSetting, 'from'> {
  if (value instanceof Unknown) return { unknown: dependsOn(value) };
  if (typeof value === 'string' && value.trim()) return { name: value.trim() };
  return truthy(value) ? { unknown: `it evaluates to ${JSON.stringify(value)}, not an executor's name` } : {};
}

/** Where the include of the pipeline in `dir` is: the file given, else nfhot.config there. */
export const includePath = (dir: string, include?: string) => (include ? resolve(include) : join(resolve(dir), INCLUDE_FILE));

export async function scanPipeline(dir: string, profiles?: string[], include?: string, reading: Reading = {}): Promise<PipelineModel> {
  const syntax = reading.syntax ?? 'v1';
  const params = reading.params ?? {};
  const root = resolve(dir);
  const notes: string[] = [];
  const files = await fg(['**/*.nf'], { cwd: root, ignore: IGNORE, absolute: true, followSymbolicLinks: false });
  const scripts = new Map<string, ScriptDecls>();
  await Promise.all(files.map(async (f) => scripts.set(f, parseScript(await readFile(f, 'utf8')))));
  // nfhot's own include given as -c (nextflow run … -c nfhot.config) is not the pipeline's.
  const configs = (reading.configs ?? []).filter((c) => c !== includePath(root, include));
  const items = await loadConfig(root, notes, configs);

  const pathOf = (i: ConfigItem) => (i.kind === 'entry' ? i.entry.path : i.kind === 'block' ? i.path : []);
  const availableProfiles = [...new Set(items.flatMap((i) => (pathOf(i)[0] === 'profiles' && pathOf(i)[1] ? [pathOf(i)[1]!] : [])))];
  const selected = profiles ?? (availableProfiles.includes('docker') ? ['docker'] : []);
  if (profiles) checkProfiles(profiles, availableProfiles, existsSync(join(root, 'nextflow.config')), notes);
  const config = effective(items, selected, syntax);
  const lastIn = (entries: ConfigEntry[], path: string) => entries.filter((e) => e.path.join('.') === path).pop()?.value;
  const last = (path: string) => lastIn(config, path);
  const isOn = (entries: ConfigEntry[], path: string) => lastIn(entries, path)?.text.trim() === 'true';
  // Only plain string literals: a path built in Groovy is not nfhot's to guess (then Nextflow's defaults apply).
  const literal = (path: string) => /^\s*(?:'([^'$\\]*)'|"([^"$\\]*)")\s*$/.exec(last(path)?.text ?? '')?.slice(1).find((v) => v !== undefined);
  const sif: SifSettings = {
    ...(isOn(config, 'apptainer.enabled') ? { enabled: 'apptainer' as const } : isOn(config, 'singularity.enabled') ? { enabled: 'singularity' as const } : {}),
    cacheDir: Object.fromEntries((['singularity', 'apptainer'] as const).flatMap((e) => (literal(`${e}.cacheDir`) ? [[e, literal(`${e}.cacheDir`)!]] : []))),
    ...(literal('workDir') ? { workDir: literal('workDir') } : {}),
  };

  const engines = CONTAINER_ENGINES.filter((e) => isOn(config, `${e}.enabled`));
  const strategy = literal('wave.strategy')?.split(',').map((x) => x.trim()).filter(Boolean);
  const run: RunSettings = { ...(engines[0] ? { engine: engines[0] } : {}), engines, conda: isOn(config, 'conda.enabled'), ...(isOn(config, 'wave.enabled') ? { wave: { strategy: strategy?.length ? strategy : WAVE_DEFAULT_STRATEGY } } : {}) };
  if (engines.length > 1) notes.push(`the profiles ${selected.join(',')} enable ${engines.join(' and ')}: Nextflow refuses to run with more than one container engine`);
  // What each profile turns on, read with that profile alone.
  const waveProfiles: string[] = [];
  const profileEngines: Record<string, ContainerEngine> = {};
  for (const p of availableProfiles) {
    const own = effective(items, [p]);
    if (isOn(own, 'wave.enabled')) waveProfiles.push(p);
    const engine = CONTAINER_ENGINES.find((e) => isOn(own, `${e}.enabled`));
    if (engine) profileEngines[p] = engine;
  }

  // The executors each profile sets itself (a name only: what a patch must be pushed for).
  const profileExecutors: Record<string, string[]> = {};
  for (const item of items) {
    if (item.kind !== 'entry' || item.entry.path[0] !== 'profiles' || !item.entry.path[1]) continue;
    const [, profile, ...rest] = item.entry.path as [string, string, ...string[]];
    const key = rest.join('.');
    if (key !== 'executor' && key !== 'executor.name' && !(rest[0] === 'process' && rest.at(-1) === 'executor')) continue;
    const name = evaluate(item.entry.value.text, { engine: null, profile, param: () => new Unknown([]) });
    if (typeof name === 'string' && name.trim() && name.trim() !== 'local') profileExecutors[profile] = [...new Set([...(profileExecutors[profile] ?? []), name.trim()])];
  }

  // What is known before the run: the engine, the profiles, the params the config sets (each evaluated once, lazily).
  const paramValues = new Map<string, Result>();
  const facts = (engine: string | null): Facts => ({
    engine,
    profile: selected.length ? selected.join(',') : 'standard',
    param: (name) => {
      const key = `${engine}\0${name}`;
      if (!paramValues.has(key)) {
        paramValues.set(key, new Unknown([`params.${name}`])); // a param defined by itself stays unknown
        const setting = last(`params.${name}`);
        if (setting) paramValues.set(key, evaluate(setting.text, facts(engine)));
        // The run's own (its command line, its params file) win over the config's, as Nextflow merges them.
        if (Object.hasOwn(params, name)) paramValues.set(key, runParam(params[name], paramValues.get(key)!));
      }
      return paramValues.get(key)!;
    },
  });
  // The Docker-side image (a patch replaces it) is read under Podman when Podman runs the tasks, else under Docker, with that engine's registry.
  const imageEngine = run.engine === 'podman' ? 'podman' : 'docker';
  const imageFacts = facts(imageEngine);
  const registryValue = last(`${imageEngine}.registry`);
  const registry = registryValue && classifyContainer(registryValue.text, '', imageFacts);
  if (registryValue && registry?.kind !== 'image') notes.push(`${imageEngine}.registry is ${registryValue.text}: nfhot cannot evaluate it and assumes none`);
  const registryOverride = last(`${imageEngine}.registryOverride`)?.text.trim() === 'true';
  const otherEngine = run.engine && run.engine !== 'docker' && run.engine !== 'podman' ? run.engine : undefined;

  // The executor of a process that sets none: the config's `executor` when a string (up to 25.04), else executor.name, else NXF_EXECUTOR, else local.
  const named = config.filter((e) => e.path.join('.') === 'executor' || e.path.join('.') === 'executor.name').pop();
  const setByName: ExecutorSetting | undefined = named && { ...executorValue(evaluate(named.value.text, facts(run.engine ?? null))), from: `${named.file}:${named.value.line}` };
  const defaultExecutor: ExecutorSetting = setByName && (setByName.name !== undefined || setByName.unknown)
    ? setByName
    : process.env.NXF_EXECUTOR
      ? { name: process.env.NXF_EXECUTOR, from: 'NXF_EXECUTOR' }
      : { name: 'local', from: 'the default' };

  // The process scope as Nextflow merges it: per selector (in the place of its first appearance), the last value of each setting.
  const selectors = new Map<string, Map<string, ConfigEntry>>();
  const processDefaults = new Map<string, ConfigEntry>();
  for (const e of config) {
    if (e.path[0] !== 'process' || e.path.length < 2) continue;
    const selector = /^with(Name|Label):/.test(e.path[1]!) ? e.path[1]! : undefined;
    const setting = e.path.slice(selector ? 2 : 1).join('.');
    if (!selector) processDefaults.set(setting, e);
    else {
      const own = selectors.get(selector) ?? new Map<string, ConfigEntry>();
      if (setting) own.set(setting, e);
      selectors.set(selector, own);
    }
  }

  // Which component each name means in each script.
  const scopes = new Map<string, Map<string, Component>>();
  for (const [file, decls] of scripts) {
    const scope = new Map<string, Component>();
    for (const p of decls.processes) scope.set(p.name, { kind: 'process', file, name: p.name });
    for (const w of decls.workflows) if (w.name) scope.set(w.name, { kind: 'workflow', file, name: w.name });
    scopes.set(file, scope);
  }
  for (const [file, decls] of scripts) {
    for (const inc of decls.includes) {
      const target = modulePath(file, inc.from);
      const component = target && scopes.get(target)?.get(inc.name);
      if (component) scopes.get(file)!.set(inc.alias, component);
      else if (!target && !inc.from.startsWith('plugin/')) notes.push(`${relative(root, file)}: include of ${inc.name} from '${inc.from}' not followed`);
    }
  }

  const instances: ProcessInstance[] = [];
  const declOf = (c: Component) => scripts.get(c.file)!.processes.find((p) => p.name === c.name)!;
  const instance = (decl: ProcessDecl, file: string, alias: string, fqn?: string): ProcessInstance => {
    const names = [...new Set([decl.name, alias, ...(fqn ? [fqn] : [])])];
    const labels = decl.labels.length ? decl.labels : [''];
    // A setting as this process gets it: the config's `process` default, the script's directive, then withLabel, then withName.
    const settingOf = (setting: string, own?: Written) => {
      const dflt = processDefaults.get(setting);
      let chosen: { text: string; from: string } | undefined = own ? { text: own.text, from: `${file}:${own.line}` } : dflt && { text: dflt.value.text, from: `${dflt.file}:${dflt.value.line}` };
      const apply = (kind: 'withLabel' | 'withName', targets: string[]) => {
        for (const [key, settings] of selectors) {
          const entry = settings.get(setting);
          if (entry && key.startsWith(`${kind}:`) && selectorMatches(key.slice(kind.length + 1), targets)) {
            chosen = { text: entry.value.text, from: `${entry.file}:${entry.value.line} (${key.replace(':', ": '")}')` };
          }
        }
      };
      apply('withLabel', labels);
      for (const n of names) apply('withName', [n]);
      return chosen;
    };
    // task.ext.NAME as this process gets it: a closure is evaluated with what is known before the run; unset is null.
    const withExt = (f: Facts): Facts => ({
      ...f,
      ext: (name) => {
        const e = settingOf(`ext.${name}`);
        return e ? evaluate(e.text, f) : null;
      },
    });
    const chosen = settingOf('container', decl.container);
    const container = chosen && classifyContainer(chosen.text, chosen.from, withExt(imageFacts));
    if (container?.kind === 'image') container.image = normalizeDockerName(container.image, registry?.kind === 'image' ? registry.image : undefined, registryOverride);
    // Under another engine, what it runs as `nextflow inspect` shows it (the name as the pipeline gives it).
    const runs = otherEngine && chosen ? (classifyContainer(chosen.text, chosen.from, withExt(facts(otherEngine))) ?? null) : undefined;
    const condaSetting = settingOf('conda', decl.conda);
    const conda = condaSetting !== undefined && !/^\s*(null|false|''|"")\s*$/.test(condaSetting.text);
    const executorSetting = settingOf('executor', decl.executor);
    const own = executorSetting && { ...executorValue(evaluate(executorSetting.text, withExt(facts(run.engine ?? null)))), from: executorSetting.from };
    const executor = own && (own.name !== undefined || own.unknown) ? own : defaultExecutor;
    return { name: decl.name, alias, ...(fqn ? { fqn } : {}), file, labels: decl.labels, ...(container ? { container } : {}), ...(runs !== undefined ? { runs } : {}), ...(conda ? { conda } : {}), executor };
  };

  // Walk the calls from the entry workflow: a process's qualified name is the chain of workflows
  // invoking it. A call under an `if` that is false with these profiles and params is not taken.
  const main = join(root, 'main.nf');
  const runFacts = facts(run.engine ?? null);
  const taken = (call: Call) =>
    call.when.every((w) => {
      const v = evaluate(w, runFacts);
      return v instanceof Unknown || truthy(v);
    });
  const walk = (file: string, calls: Call[], prefix: string, depth: number) => {
    for (const name of new Set(calls.filter(taken).map((c) => c.name))) {
      const c = scopes.get(file)?.get(name);
      if (!c || depth > 50) continue;
      const fqn = prefix ? `${prefix}:${name}` : name;
      if (c.kind === 'process') instances.push(instance(declOf(c), relative(root, c.file), name, fqn));
      else walk(c.file, scripts.get(c.file)!.workflows.find((w) => w.name === c.name)?.calls ?? [], fqn, depth + 1);
    }
  };
  for (const w of scripts.get(main)?.workflows.filter((w) => !w.name) ?? []) walk(main, w.calls, '', 0);
  const entry = scripts.has(main) && scripts.get(main)!.workflows.some((w) => !w.name);

  // Processes the entry workflow does not reach: once under each alias it is included as, or
  // under its own name when nothing includes it; unqualified, and said to be uncalled when the
  // entry workflow was read (a module library has none).
  const reachedProcesses = new Set(instances.map((i) => `${join(root, i.file)}\0${i.name}`));
  const aliases = new Map<string, { c: Component; names: Set<string> }>();
  for (const [file, scope] of scopes) {
    for (const [alias, c] of scope) {
      if (c.kind !== 'process' || reachedProcesses.has(`${c.file}\0${c.name}`)) continue;
      const entry = aliases.get(`${c.file}\0${c.name}`) ?? { c, names: new Set<string>() };
      if (c.file !== file) entry.names.add(alias);
      aliases.set(`${c.file}\0${c.name}`, entry);
    }
  }
  for (const { c, names } of aliases.values()) {
    for (const alias of names.size ? names : [c.name]) instances.push({ ...instance(declOf(c), relative(root, c.file), alias), ...(entry ? { uncalled: true as const } : {}) });
  }
  return { dir: root, syntax, params, configs, include: includePath(root, include), profiles: selected, availableProfiles, ...(registry?.kind === 'image' ? { registry: registry.image } : {}), registryOverride, sif, run, waveProfiles, profileEngines, profileExecutors, instances, notes };
}
