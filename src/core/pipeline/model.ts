import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { UsageError } from '../errors.js';
import { parseConfig, PROJECT_DIR, type ConfigEntry, type ConfigItem } from './config.js';
import type { SifSettings } from '../singularity.js';
import { classifyContainer, normalizeDockerName, type ContainerValue } from './container.js';
import { parseScript, type ProcessDecl, type ScriptDecls } from './nf.js';

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
  /** The container it runs under Docker; undefined when it has none. */
  container?: ContainerValue;
  /** It has a conda environment (its `conda` directive, or `process.conda`): under Wave with conda first, its image is built from it. */
  conda?: boolean;
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

export interface PipelineModel {
  dir: string;
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

/** Reads the config from nextflow.config, following includes in place (in profiles, under the profile). */
async function loadConfig(dir: string, notes: string[]): Promise<ConfigItem[]> {
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
      } else if (item.what.startsWith('includeConfig')) {
        notes.push(`${relative(dir, file)}:${item.line}: not followed: ${item.what}`);
      }
    }
  };
  await read(join(dir, 'nextflow.config'), []);
  return items;
}

/** The settings that apply with `profiles` selected, in order, profile scopes removed. */
function effective(items: ConfigItem[], profiles: string[]): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const item of items) {
    if (item.kind !== 'entry') continue;
    const { path } = item.entry;
    if (path[0] !== 'profiles') out.push(item.entry);
    else if (path.length > 2 && profiles.includes(path[1]!)) out.push({ ...item.entry, path: path.slice(2) });
  }
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

/** Where the include of the pipeline in `dir` is: the file given, else nfhot.config there. */
export const includePath = (dir: string, include?: string) => (include ? resolve(include) : join(resolve(dir), INCLUDE_FILE));

export async function scanPipeline(dir: string, profiles?: string[], include?: string): Promise<PipelineModel> {
  const root = resolve(dir);
  const notes: string[] = [];
  const files = await fg(['**/*.nf'], { cwd: root, ignore: IGNORE, absolute: true, followSymbolicLinks: false });
  const scripts = new Map<string, ScriptDecls>();
  await Promise.all(files.map(async (f) => scripts.set(f, parseScript(await readFile(f, 'utf8')))));
  const items = await loadConfig(root, notes);

  const availableProfiles = [...new Set(items.flatMap((i) => (i.kind === 'entry' && i.entry.path[0] === 'profiles' && i.entry.path[1] ? [i.entry.path[1]] : [])))];
  const selected = profiles ?? (availableProfiles.includes('docker') ? ['docker'] : []);
  const config = effective(items, selected);
  const lastIn = (entries: ConfigEntry[], path: string) => entries.filter((e) => e.path.join('.') === path).pop()?.value;
  const last = (path: string) => lastIn(config, path);
  const isOn = (entries: ConfigEntry[], path: string) => lastIn(entries, path)?.text.trim() === 'true';
  const registryValue = last('docker.registry');
  const registry = registryValue && classifyContainer(registryValue.text);
  if (registryValue && registry?.kind !== 'image') notes.push(`docker.registry is ${registryValue.text}: nfhot cannot evaluate it and assumes none`);
  const registryOverride = last('docker.registryOverride')?.text.trim() === 'true';
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
  const processConda = last('process.conda');

  // The process scope as Nextflow merges it: a selector keeps the place of its first appearance.
  const selectors = new Map<string, ConfigEntry | undefined>();
  let processDefault: ConfigEntry | undefined;
  for (const e of config) {
    if (e.path[0] !== 'process') continue;
    if (e.path.length === 2 && e.path[1] === 'container') processDefault = e;
    if (e.path.length >= 2 && /^with(Name|Label):/.test(e.path[1]!)) {
      const prior = selectors.get(e.path[1]!);
      selectors.set(e.path[1]!, e.path.length === 3 && e.path[2] === 'container' ? e : prior);
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
    let chosen: { text: string; from: string } | undefined = decl.container
      ? { text: decl.container.text, from: `${file}:${decl.container.line}` }
      : processDefault && { text: processDefault.value.text, from: `${processDefault.file}:${processDefault.value.line}` };
    const apply = (kind: 'withLabel' | 'withName', targets: string[]) => {
      for (const [key, entry] of selectors) {
        if (entry && key.startsWith(`${kind}:`) && selectorMatches(key.slice(kind.length + 1), targets)) {
          chosen = { text: entry.value.text, from: `${entry.file}:${entry.value.line} (${key.replace(':', ": '")}')` };
        }
      }
    };
    apply('withLabel', labels);
    for (const n of names) apply('withName', [n]);
    const container = chosen && classifyContainer(chosen.text, chosen.from);
    if (container?.kind === 'image') container.image = normalizeDockerName(container.image, registry?.kind === 'image' ? registry.image : undefined, registryOverride);
    const condaSetting = decl.conda ?? processConda;
    const conda = condaSetting !== undefined && !/^\s*(null|false|''|"")\s*$/.test(condaSetting.text);
    return { name: decl.name, alias, ...(fqn ? { fqn } : {}), file, labels: decl.labels, ...(container ? { container } : {}), ...(conda ? { conda } : {}) };
  };

  // Walk the calls from the entry workflow: a process's qualified name is the chain of workflows invoking it.
  const main = join(root, 'main.nf');
  const walk = (file: string, calls: string[], prefix: string, depth: number) => {
    for (const name of calls) {
      const c = scopes.get(file)?.get(name);
      if (!c || depth > 50) continue;
      const fqn = prefix ? `${prefix}:${name}` : name;
      if (c.kind === 'process') instances.push(instance(declOf(c), relative(root, c.file), name, fqn));
      else walk(c.file, scripts.get(c.file)!.workflows.find((w) => w.name === c.name)?.calls ?? [], fqn, depth + 1);
    }
  };
  for (const w of scripts.get(main)?.workflows.filter((w) => !w.name) ?? []) walk(main, w.calls, '', 0);

  // Processes the entry workflow does not visibly reach: once under each alias it is included
  // as, or under its own name when nothing includes it; unqualified.
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
    for (const alias of names.size ? names : [c.name]) instances.push(instance(declOf(c), relative(root, c.file), alias));
  }
  return { dir: root, include: includePath(root, include), profiles: selected, availableProfiles, ...(registry?.kind === 'image' ? { registry: registry.image } : {}), registryOverride, sif, run, waveProfiles, profileEngines, instances, notes };
}
