// The include file in a pipeline's directory: checked before images change, written whole.
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../base/context.js';
import { UserError } from '../base/errors.js';
import { SIF_ENGINES, sifCacheDir, sifName } from '../image/singularity.js';
import type { ImageState } from '../image/state.js';
import { stopPoint } from '../base/stop-point.js';
import { alive, writeFileAtomic } from '../base/util.js';
import { planInclude, renderInclude } from './include.js';
import { INCLUDE_FILE, INCLUDE_LINE, type PipelineModel } from './model.js';
import { preflight, type Verdict } from './preflight.js';

const INCLUDED = /^\s*includeConfig\s+(['"])(\.\/)?nfhot\.config\1\s*$/m;

/** Whether nextflow.config includes nfhot.config, and whether anything but comments follows that line (a setting there could override it). */
async function includeLineIn(dir: string): Promise<{ included: boolean; followed: boolean }> {
  const text = await readFile(join(dir, 'nextflow.config'), 'utf8').catch(() => '');
  const at = INCLUDED.exec(text);
  if (!at) return { included: false, followed: false };
  const rest = text
    .slice(at.index + at[0].length)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  return { included: true, followed: rest.trim() !== '' };
}

/** Adds the include line at the end of nextflow.config (last, so it overrides); nothing when it is there. */
export async function addIncludeLine(dir: string): Promise<boolean> {
  if ((await includeLineIn(dir)).included) return false;
  const config = join(dir, 'nextflow.config');
  const text = existsSync(config) ? await readFile(config, 'utf8') : '';
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await writeFile(config, `${text}${sep}\n// Patched images from nfhot (keep this line last)\n${INCLUDE_LINE}\n`);
  return true;
}

/** Why nfhot may not write `path` (not a file, made read-only), or undefined. */
function refusal(path: string): UserError | undefined {
  const stat = existsSync(path) ? statSync(path) : undefined;
  if (stat && !stat.isFile())
    return new UserError(
      `cannot write ${path}: it is not a file`,
      'remove or rename it; nfhot keeps its include there',
    );
  // Root may write anything: a file made read-only says not to, for nfhot too.
  if (stat && (stat.mode & 0o222) === 0)
    return new UserError(
      `cannot write ${path}: it is read-only`,
      `make it writable (chmod u+w ${path}) to let nfhot keep it`,
    );
  return undefined;
}

const unwritable = (path: string, err: unknown) =>
  new UserError(
    `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    'check that the pipeline directory is writable',
  );

/** Fails now, before images change, when the pipeline's include could not be written afterwards. */
export async function checkIncludeWritable(path: string): Promise<void> {
  const refused = refusal(path);
  if (refused) throw refused;
  const probe = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(probe, '');
  } catch (err) {
    throw unwritable(path, err);
  } finally {
    await rm(probe, { force: true });
  }
}

/** Writes the include whole or not at all: a run of Nextflow never reads half of it. */
async function writeInclude(path: string, text: string): Promise<void> {
  const refused = refusal(path);
  if (refused) throw refused;
  try {
    await writeFileAtomic(path, text, () => stopPoint('include:write'));
  } catch (err) {
    throw unwritable(path, err);
  }
  await removeLeftTemporaries(path);
}

/** Temporary files of runs killed before they could rename them. */
async function removeLeftTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  for (const name of await readdir(dirname(path))) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && Number.isInteger(pid) && !alive(pid))
      await rm(join(dirname(path), name), { force: true });
  }
}

/** The SIF files nfhot built for the patched derivatives, where Nextflow's cache directory for either engine has them. */
function sifFiles(model: PipelineModel, states: ImageState[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const s of states) {
    if (!s.derivative) continue;
    const path = SIF_ENGINES.map((e) => join(sifCacheDir(e, model.dir, model.sif), sifName(s.derivative!))).find((p) =>
      existsSync(p),
    );
    if (path) files.set(s.derivative, path);
  }
  return files;
}

export interface IncludeResult {
  path: string;
  written: boolean;
  /** Whether the file changed (it is written only then). */
  changed: boolean;
  /** Whether nextflow.config includes it. */
  included: boolean;
  overrides: { image: string; reference: string; selector: string; processes: string[] }[];
  /** The preflight: for each patched process, whether a run with the model's profiles uses its patch. */
  verdicts: Verdict[];
  notes: string[];
}

/**
 * Rewrites the pipeline's nfhot.config from `states`, what the daemon says is patched now (not on
 * dryRun); `quiet` says nothing of it (an include of another pipeline, kept in step).
 */
export async function writeIncludeFor(
  ctx: Context,
  model: PipelineModel,
  states: ImageState[],
  options: { dryRun?: boolean; addInclude?: boolean; quiet?: boolean } = {},
): Promise<IncludeResult> {
  const plan = planInclude(model, states, sifFiles(model, states));
  const path = model.include;
  const external = path !== join(model.dir, INCLUDE_FILE);
  let changed = false;
  if (!options.dryRun) {
    for (const alias of plan.aliases) await ctx.engine.tag(alias.from, alias.to);
    const text = renderInclude(plan);
    changed = text !== (await readFile(path, 'utf8').catch(() => undefined));
    if (changed) await writeInclude(path, text);
  }
  const added = !options.dryRun && options.addInclude && !external ? await addIncludeLine(model.dir) : false;
  const { included, followed } = external ? { included: false, followed: false } : await includeLineIn(model.dir);
  const verdicts = preflight(model, plan, external ? { with: path } : included);
  if (!options.quiet) {
    for (const note of plan.notes) ctx.report.warn(note);
    for (const o of plan.overrides)
      ctx.report.info(`${o.instances.map((i) => i.fqn ?? i.alias).join(', ')} → ${o.reference}`);
    const profiles = model.profiles.length ? `-profile ${model.profiles.join(',')}` : 'no profile';
    if (followed && plan.overrides.length)
      ctx.report.warn(
        `nextflow.config sets more after ${INCLUDE_LINE}: a setting there can override the include (keep that line last)`,
      );
    if (model.run.wave)
      for (const v of verdicts.filter((v) => v.uses)) ctx.report.info(`${v.process} under ${profiles}: ${v.why}`);
    if (plan.waveOff)
      ctx.report.warn(
        `Wave is on with ${profiles}, and it cannot pull the patched images from this machine's daemon: the include switches it off (nfhot push them to keep it)`,
      );
    for (const v of verdicts.filter((v) => !v.uses))
      ctx.report.warn(`a run with ${profiles} does not use the patch in ${v.process}: ${v.why}`);
    // Profiles not selected here that send tasks off this machine: a local-only patch would not reach them.
    const local = plan.overrides.filter((o) => !o.reference.includes('@sha256:'));
    for (const [p, executors] of Object.entries(model.profileExecutors).filter(
      ([p]) => local.length && !model.profiles.includes(p),
    )) {
      ctx.report.warn(
        `-profile ${p} runs tasks on the ${executors.map((e) => `'${e}'`).join(', ')} executor: the patch of ${[...new Set(local.map((o) => o.image))].join(', ')} is only in this machine's engine and would not reach them; push it (nfhot push REGISTRY, or patch … --push REGISTRY) before such a run (nfhot config --check --profile ${[...model.profiles, p].join(',')} says which processes)`,
      );
    }
    if (added) ctx.report.info(`added ${INCLUDE_LINE} at the end of ${join(model.dir, 'nextflow.config')}`);
    else if (external) ctx.report.info(`${path} is outside the pipeline: run it with  nextflow run … -c ${path}`);
    else if (!included)
      ctx.report.info(
        `to use ${path}, add once at the end of nextflow.config:  ${INCLUDE_LINE}   (or: nextflow run ... -c ${path})`,
      );
  }
  return {
    path,
    written: !options.dryRun,
    changed,
    included,
    overrides: plan.overrides.map((o) => ({
      image: o.image,
      reference: o.reference,
      selector: o.selector,
      processes: o.instances.map((i) => i.fqn ?? i.alias),
    })),
    verdicts,
    notes: plan.notes,
  };
}
