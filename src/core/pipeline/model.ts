// The model of a pipeline as a run reads it: every process it runs (under its qualified name),
// the image each runs under Docker or Podman (what a patch replaces), what it runs under another
// engine, its conda environment and its executor; and what the run's profiles make of the engine,
// conda, Wave and SIF files. The config side is run-config.ts, the calls side calls.ts.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import type { Context } from '../base/context.js';
import { UsageError } from '../base/errors.js';
import type { SifSettings } from '../image/singularity.js';
import { processCalls, type ProcessCall } from './calls.js';
import type { ConfigEntry } from './config.js';
import { classifyContainer, dependsOn, normalizeDockerName, type ContainerValue } from './container.js';
import { evaluate, truthy, Unknown, type Facts, type Result, type Value } from './evaluate.js';
import type { ExecutorSetting } from './executor.js';
import { paramValue, type Params } from './params.js';
import {
  checkProfiles,
  effective,
  INCLUDE_FILE,
  loadConfig,
  processScope,
  processSetting,
  profilesIn,
  runConfig,
  settings,
  type ContainerEngine,
  type ProcessScope,
  type RunSettings,
} from './run-config.js';
import { readingFor, type RunOptions, type Syntax } from './syntax.js';
import { parseScript, type ScriptDecls } from './nf.js';

export { CONTAINER_ENGINES, INCLUDE_FILE, INCLUDE_LINE, type ContainerEngine, type RunSettings } from './run-config.js';

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
    if (!isPipelineDir(option))
      throw new UsageError(`${option} is not a pipeline directory: it has no main.nf or nextflow.config`);
    return option;
  }
  return isPipelineDir('.') ? '.' : undefined;
}

/**
 * A param the run gives, as the model's value: a string from the command line becomes a boolean
 * or a number where the config's own value is one (the strict parser keeps command-line strings
 * from 25.10, and converts them so from 26.04); a map is not followed.
 */
function runParam(value: unknown, configured: Result): Result {
  if (typeof value === 'string' && (typeof configured === 'boolean' || typeof configured === 'number'))
    return paramValue(value) as Value;
  const plain = (v: unknown): v is Value =>
    v === null || ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every(plain));
  return plain(value) ? value : new Unknown([`a map of params`]);
}

/** An executor setting's value: a name, nothing (null or empty: the next setting decides), or what it depends on. */
function executorValue(value: Result): Omit<ExecutorSetting, 'from'> {
  if (value instanceof Unknown) return { unknown: dependsOn(value) };
  if (typeof value === 'string' && value.trim()) return { name: value.trim() };
  return truthy(value) ? { unknown: `it evaluates to ${JSON.stringify(value)}, not an executor's name` } : {};
}

/** Where the include of the pipeline in `dir` is: the file given, else nfhot.config there. */
export const includePath = (dir: string, include?: string) =>
  include ? resolve(include) : join(resolve(dir), INCLUDE_FILE);

/** What is known before the run: the engine, the profiles, the params the config sets (each evaluated once, lazily) and the run's own over them. */
function factsFor(config: ConfigEntry[], selected: string[], params: Params): (engine: string | null) => Facts {
  const { last } = settings(config);
  const values = new Map<string, Result>();
  const facts = (engine: string | null): Facts => ({
    engine,
    profile: selected.length ? selected.join(',') : 'standard',
    param: (name) => {
      const key = `${engine}\0${name}`;
      if (!values.has(key)) {
        values.set(key, new Unknown([`params.${name}`])); // a param defined by itself stays unknown
        const setting = last(`params.${name}`);
        if (setting) values.set(key, evaluate(setting.text, facts(engine)));
        // The run's own (its command line, its params file) win over the config's, as Nextflow merges them.
        if (Object.hasOwn(params, name)) values.set(key, runParam(params[name], values.get(key)!));
      }
      return values.get(key)!;
    },
  });
  return facts;
}

/** The executor of a process that sets none: the config's `executor` when a string (up to 25.04), else executor.name, else NXF_EXECUTOR, else local. */
function defaultExecutor(config: ConfigEntry[], facts: Facts): ExecutorSetting {
  const named = config.filter((e) => e.path.join('.') === 'executor' || e.path.join('.') === 'executor.name').pop();
  const set: ExecutorSetting | undefined = named && {
    ...executorValue(evaluate(named.value.text, facts)),
    from: `${named.file}:${named.value.line}`,
  };
  if (set && (set.name !== undefined || set.unknown)) return set;
  return process.env.NXF_EXECUTOR
    ? { name: process.env.NXF_EXECUTOR, from: 'NXF_EXECUTOR' }
    : { name: 'local', from: 'the default' };
}

/** What makes a process instance from its call: the process scope, the facts, the registry, the engine and the default executor. */
interface InstanceContext {
  scope: ProcessScope;
  facts: (engine: string | null) => Facts;
  /** The engine whose name of the image a patch replaces (Podman's when Podman runs the tasks, else Docker's), and its registry. */
  imageEngine: 'docker' | 'podman';
  registry?: string;
  registryOverride: boolean;
  /** The engine the run enables, and another one than Docker or Podman when it is that. */
  engine: string | null;
  otherEngine?: string;
  executor: ExecutorSetting;
}

function instanceOf(call: ProcessCall, x: InstanceContext): ProcessInstance {
  const { decl, file, alias, fqn } = call;
  const named = { file, labels: decl.labels, names: [...new Set([decl.name, alias, ...(fqn ? [fqn] : [])])] };
  const settingOf = (setting: string, own?: { text: string; line: number }) =>
    processSetting(x.scope, setting, named, own);
  // task.ext.NAME as this process gets it: a closure is evaluated with what is known before the run; unset is null.
  const withExt = (f: Facts): Facts => ({
    ...f,
    ext: (name) => {
      const e = settingOf(`ext.${name}`);
      return e ? evaluate(e.text, f) : null;
    },
  });
  const chosen = settingOf('container', decl.container);
  const container = chosen && classifyContainer(chosen.text, chosen.from, withExt(x.facts(x.imageEngine)));
  if (container?.kind === 'image')
    container.image = normalizeDockerName(container.image, x.registry, x.registryOverride);
  // Under another engine, what it runs as `nextflow inspect` shows it (the name as the pipeline gives it).
  const runs =
    x.otherEngine && chosen
      ? (classifyContainer(chosen.text, chosen.from, withExt(x.facts(x.otherEngine))) ?? null)
      : undefined;
  const condaSetting = settingOf('conda', decl.conda);
  const conda = condaSetting !== undefined && !/^\s*(null|false|''|"")\s*$/.test(condaSetting.text);
  const executorSetting = settingOf('executor', decl.executor);
  const own = executorSetting && {
    ...executorValue(evaluate(executorSetting.text, withExt(x.facts(x.engine)))),
    from: executorSetting.from,
  };
  const executor = own && (own.name !== undefined || own.unknown) ? own : x.executor;
  return {
    name: decl.name,
    alias,
    ...(fqn ? { fqn } : {}),
    file,
    labels: decl.labels,
    ...(container ? { container } : {}),
    ...(runs !== undefined ? { runs } : {}),
    ...(conda ? { conda } : {}),
    executor,
    ...(call.uncalled ? { uncalled: true as const } : {}),
  };
}

/** The pipeline's scripts, each parsed. */
async function readScripts(root: string): Promise<Map<string, ScriptDecls>> {
  const files = await fg(['**/*.nf'], { cwd: root, ignore: IGNORE, absolute: true, followSymbolicLinks: false });
  const scripts = new Map<string, ScriptDecls>();
  await Promise.all(files.map(async (f) => scripts.set(f, parseScript(await readFile(f, 'utf8')))));
  return scripts;
}

/** The pipeline in `dir` as a run reads it: its profiles, nfhot's include, and the run's parser, params and -c files. */
export async function readPipeline(
  ctx: Context,
  dir: string,
  options: { profiles?: string[] | undefined; include?: string | undefined; run?: RunOptions | undefined },
): Promise<PipelineModel> {
  return scanPipeline(dir, options.profiles, options.include, await readingFor(ctx, options.run));
}

export async function scanPipeline(
  dir: string,
  profiles?: string[],
  include?: string,
  reading: Reading = {},
): Promise<PipelineModel> {
  const syntax = reading.syntax ?? 'v1';
  const params = reading.params ?? {};
  const root = resolve(dir);
  const notes: string[] = [];
  const scripts = await readScripts(root);
  // nfhot's own include given as -c (nextflow run … -c nfhot.config) is not the pipeline's.
  const configs = (reading.configs ?? []).filter((c) => c !== includePath(root, include));
  const items = await loadConfig(root, notes, configs);
  const availableProfiles = profilesIn(items);
  const selected = profiles ?? (availableProfiles.includes('docker') ? ['docker'] : []);
  if (profiles) checkProfiles(profiles, availableProfiles, existsSync(join(root, 'nextflow.config')), notes);
  const config = effective(items, selected, syntax);
  const { last } = settings(config);
  const { sif, run, waveProfiles, profileEngines, profileExecutors } = runConfig(items, config, selected, notes);
  const facts = factsFor(config, selected, params);

  // The Docker-side image (a patch replaces it) is read under Podman when Podman runs the tasks, else under Docker, with that engine's registry.
  const imageEngine = run.engine === 'podman' ? 'podman' : 'docker';
  const registryValue = last(`${imageEngine}.registry`);
  const registry = registryValue && classifyContainer(registryValue.text, '', facts(imageEngine));
  if (registryValue && registry?.kind !== 'image')
    notes.push(`${imageEngine}.registry is ${registryValue.text}: nfhot cannot evaluate it and assumes none`);
  const registryOverride = last(`${imageEngine}.registryOverride`)?.text.trim() === 'true';
  const runFacts = facts(run.engine ?? null);
  const context: InstanceContext = {
    scope: processScope(config),
    facts,
    imageEngine,
    ...(registry?.kind === 'image' ? { registry: registry.image } : {}),
    registryOverride,
    engine: run.engine ?? null,
    ...(run.engine && run.engine !== 'docker' && run.engine !== 'podman' ? { otherEngine: run.engine } : {}),
    executor: defaultExecutor(config, runFacts),
  };
  // A call under an `if` that is false with these profiles and params is not taken.
  const taken = (call: { when: string[] }) =>
    call.when.every((w) => {
      const v = evaluate(w, runFacts);
      return v instanceof Unknown || truthy(v);
    });
  const instances = processCalls(root, scripts, taken, notes).map((call) => instanceOf(call, context));
  return {
    dir: root,
    syntax,
    params,
    configs,
    include: includePath(root, include),
    profiles: selected,
    availableProfiles,
    ...(context.registry ? { registry: context.registry } : {}),
    registryOverride,
    sif,
    run,
    waveProfiles,
    profileEngines,
    profileExecutors,
    instances,
    notes,
  };
}
