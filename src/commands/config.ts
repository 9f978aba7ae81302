import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Context } from '../core/base/context.js';
import { UsageError } from '../core/base/errors.js';
import {
  compareWithNextflow,
  parseInspect,
  processRuns,
  readFlat,
  type CheckResult,
  type ProcessRun,
} from '../core/pipeline/check.js';
import { strandedBy } from '../core/pipeline/executor.js';
import type { Verdict } from '../core/pipeline/preflight.js';
import { includeReferences } from '../core/pipeline/include.js';
import { writeIncludeFor, type IncludeResult } from '../core/pipeline/include-file.js';
import { keptIncludes, syncIncludes, type KeptInclude, type KeptIncludeResult } from '../core/pipeline/kept.js';
import { INCLUDE_FILE, includePath, pipelineDir, scanPipeline, type PipelineModel } from '../core/pipeline/model.js';
import {
  atLeast,
  describeTarget,
  readingFor,
  syntaxNote,
  type NextflowTarget,
  type RunOptions,
} from '../core/pipeline/syntax.js';

export interface ConfigOptions {
  pipeline?: string;
  profiles?: string[];
  /** The run the pipeline is read for: its parser and params (--syntax, --params-file, --param). */
  run?: RunOptions;
  include?: string;
  dryRun?: boolean;
  addInclude?: boolean;
  /** Compare the model with what `nextflow inspect` reports. */
  check?: boolean;
}

export interface ConfigResult {
  /** The Nextflow and the parser the pipeline was read for. */
  nextflow: NextflowTarget;
  model: PipelineModel;
  include: IncludeResult;
  /** Per process, the container a run with the profiles gives it, the include applied. */
  runs: ProcessRun[];
  /** The other includes nfhot keeps, rewritten too. */
  includes?: KeptIncludeResult[];
  check?: CheckResult;
}

/** Reads the pipeline, shows each process's image, and rewrites nfhot.config (and every include nfhot keeps) from what is patched now. */
export async function config(options: ConfigOptions, ctx: Context): Promise<ConfigResult> {
  const dir = pipelineDir(options.pipeline);
  if (!dir)
    throw new UsageError(
      'no pipeline here',
      'run in the pipeline directory, or point --pipeline at it (nfhot config --list shows the includes nfhot keeps)',
    );
  const reading = await readingFor(ctx, options.run);
  ctx.report.info(
    `read as ${describeTarget(reading.target)} reads it${Object.keys(reading.params).length ? `, with the run's params ${Object.keys(reading.params).join(', ')}` : ''}`,
  );
  const odd = syntaxNote(reading.target);
  if (odd) ctx.report.warn(odd);
  const model = await scanPipeline(dir, options.profiles, options.include, reading);
  for (const note of model.notes) ctx.report.warn(note);
  // A dry run reads the pipeline without the daemon too: then without what is patched, and said.
  const reachable = await ctx.engine.ping().then(
    () => true,
    (err: Error) => {
      if (!options.dryRun) throw err;
      ctx.report.warn(`${err.message.split('\n')[0]}: the pipeline as nfhot reads it, not what is patched`);
      return false;
    },
  );
  const { include, others } = reachable
    ? await syncIncludes(ctx, {
        model,
        ...(options.dryRun ? { dryRun: true } : {}),
        ...(options.addInclude ? { addInclude: true } : {}),
      })
    : { include: await writeIncludeFor(ctx, model, [], { dryRun: true }), others: [] };
  const result: ConfigResult = {
    nextflow: reading.target,
    model,
    include: include!,
    runs: processRuns(model, include!.overrides),
    ...(others.length ? { includes: others } : {}),
  };
  const check = options.check ? await checkWithNextflow(ctx, model, include!, reading.target, options.run) : undefined;
  if (check?.executor) {
    const before = include!.verdicts;
    include!.verdicts = withResolvedExecutor(model, before, check.executor);
    const changed = include!.verdicts.filter((v, n) => v !== before[n]);
    if (changed.length) {
      const read = model.instances.find((i) => (i.fqn ?? i.alias) === changed[0]!.process)?.executor.name;
      const difference = `the executor: Nextflow resolves '${check.executor}' for the processes that set none, nfhot read ${read} (a config include it could not follow)`;
      check.differences.push(difference);
      ctx.report.warn(difference);
      for (const v of changed)
        ctx.report.warn(
          `a run with ${model.profiles.length ? `-profile ${model.profiles.join(',')}` : 'no profile'} does not use the patch in ${v.process}: ${v.why}`,
        );
    }
  }
  if (check?.waveEnabled) {
    // This Nextflow keeps Wave on despite the include (its parser applies the profile after it).
    include!.verdicts = include!.verdicts.map((v) =>
      v.uses && model.run.wave && !v.wave
        ? {
            ...v,
            uses: false,
            wave: true,
            why: `nextflow config says wave.enabled = true with the include: this Nextflow applies the profile after it; run with -c ${INCLUDE_FILE} (or NXF_DISABLE_WAVE_SERVICE=1)`,
          }
        : v,
    );
  }
  return check ? { ...result, check } : result;
}

export interface KeptIncludeEntry extends KeptInclude {
  path: string;
  /** The references it gives Docker and Podman now; undefined when the file is gone. */
  references?: string[];
}

/** The includes nfhot keeps (for every engine), and what each points at. Needs no engine. */
export async function listIncludes(): Promise<KeptIncludeEntry[]> {
  return Promise.all(
    (await keptIncludes()).map(async (k) => {
      const path = includePath(k.dir, k.include);
      const text = await readFile(path, 'utf8').catch(() => undefined);
      return { ...k, path, ...(text === undefined ? {} : { references: includeReferences(text) }) };
    }),
  );
}

/** The arguments that give Nextflow the run nfhot read the pipeline for: its profiles and params. */
function runArgs(model: PipelineModel, given: RunOptions | undefined): string[] {
  return [
    ...model.configs.flatMap((c) => ['-c', c]),
    ...(model.profiles.length ? ['-profile', model.profiles.join(',')] : []),
    ...(given?.paramsFile ? ['-params-file', resolve(given.paramsFile)] : []),
    ...(given?.params ?? []).flatMap((p) => [`--${p.slice(0, p.indexOf('='))}`, p.slice(p.indexOf('=') + 1)]),
  ];
}

/** What `nextflow inspect` says, compared with nfhot's model; undefined (and said) when nextflow is not on PATH. */
async function checkWithNextflow(
  ctx: Context,
  model: PipelineModel,
  include: IncludeResult,
  target: NextflowTarget,
  given: RunOptions | undefined,
): Promise<CheckResult | undefined> {
  const args = ['inspect', '-format', 'json', ...runArgs(model, given), model.dir];
  // Nextflow parses as nfhot read: the parser chosen is the one it is told to use.
  const env = { NXF_SYNTAX_PARSER: target.syntax };
  const inspected = await ctx.programs.run('nextflow', args, { cwd: model.dir, env });
  if (inspected.exitCode === undefined) {
    ctx.report.warn(
      "nextflow is not on PATH: the preflight is nfhot's reading of the pipeline, not compared with what `nextflow inspect` reports",
    );
    return undefined;
  }
  // From 25.04, inspect lists every process definition by its simple name, outside the entry workflow.
  const definitions = atLeast(target.version, '25.4.0') === true;
  let result: CheckResult = { agree: 0, differences: [] };
  if (inspected.exitCode === 0) {
    result = compareWithNextflow(model, include.overrides, parseInspect(inspected.stdout), definitions);
    for (const d of result.differences) ctx.report.warn(d);
    ctx.report.info(
      `nextflow inspect agrees on ${result.agree} ${definitions ? 'process definition(s)' : 'process(es)'}; ${result.differences.length} difference(s) (compared with ${describeTarget(target)})`,
    );
  } else {
    // Nextflow's own reason (a plugin it cannot get, Wave's nf-wave offline, say): the comparison is skipped, the rest of the preflight stands.
    const said = `${inspected.stdout}\n${inspected.stderr}`;
    const why =
      (/ERROR ~ (.+)/.exec(said)?.[1] ?? inspected.stderr.split('\n').find((l) => l.trim()))?.trim() ??
      `exit ${inspected.exitCode}`;
    ctx.report.warn(
      `nextflow inspect failed (${why}): nfhot's reading is not compared with Nextflow's; run it yourself to see why: NXF_SYNTAX_PARSER=${target.syntax} nextflow ${args.join(' ')}`,
    );
  }
  // As Nextflow resolves the config, the include with it: whether Wave stays on (when the profiles turn it on), and where a
  // process that sets no executor runs (when nfhot could not follow a config include: a site's config may set it there).
  const unfollowed = model.notes.some((n) => n.includes('not followed: includeConfig'));
  if (!model.run.wave && !unfollowed) return result;
  const flat = await ctx.programs.run(
    'nextflow',
    [
      'config',
      '-flat',
      ...model.configs.flatMap((c) => ['-c', c]),
      ...(model.profiles.length ? ['-profile', model.profiles.join(',')] : []),
      model.dir,
    ],
    { cwd: model.dir, env },
  );
  return flat.exitCode === 0 ? { ...result, ...readFlat(flat.stdout) } : result;
}

/**
 * The verdicts again with the default executor Nextflow resolved, where it is not the one nfhot
 * read (a config include nfhot could not follow sets it): a local-only patch of a process that
 * sets no executor of its own is not used off this machine.
 */
function withResolvedExecutor(model: PipelineModel, verdicts: Verdict[], executor: string): Verdict[] {
  return verdicts.map((v) => {
    const i = model.instances.find((i) => (i.fqn ?? i.alias) === v.process);
    const defaulted =
      i && (i.executor.from === 'the default' || i.executor.from === 'NXF_EXECUTOR') && i.executor.name !== executor;
    const stranded =
      defaulted &&
      v.uses &&
      (v.engine === 'docker' || v.engine === 'podman') &&
      !v.runs.includes('@sha256:') &&
      strandedBy(executor, v.runs);
    return stranded
      ? {
          ...v,
          uses: false,
          why: `nextflow config resolves its executor to '${executor}' (set where nfhot could not follow): ${stranded}`,
        }
      : v;
  });
}
