import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { alive } from '../lock.js';
import { readState, type ImageState } from '../state.js';
import { stopPoint } from '../stop-point.js';
import { planInclude, renderInclude } from './include.js';
import { SIF_ENGINES, sifCacheDir, sifName } from '../singularity.js';
import { INCLUDE_FILE, INCLUDE_LINE, type PipelineModel } from './model.js';

const INCLUDED = /^\s*includeConfig\s+(['"])(\.\/)?nfhot\.config\1\s*$/m;

/** Whether nextflow.config already includes nfhot.config. */
export async function includesNfhot(dir: string): Promise<boolean> {
  const config = join(dir, 'nextflow.config');
  return existsSync(config) && INCLUDED.test(await readFile(config, 'utf8'));
}

/** Adds the include line at the end of nextflow.config (last, so it overrides); nothing when it is there. */
export async function addIncludeLine(dir: string): Promise<boolean> {
  if (await includesNfhot(dir)) return false;
  const config = join(dir, 'nextflow.config');
  const text = existsSync(config) ? await readFile(config, 'utf8') : '';
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await writeFile(config, `${text}${sep}\n// Patched images from nfhot (keep this line last)\n${INCLUDE_LINE}\n`);
  return true;
}

/**
 * Writes the file whole or not at all: a run of Nextflow never reads half of it. With `text`
 * undefined, only finds out whether it could, so that a command fails before it changes anything.
 */
async function writeAtomically(path: string, text?: string): Promise<void> {
  const stat = existsSync(path) ? statSync(path) : undefined;
  if (stat && !stat.isFile()) throw new UserError(`cannot write ${path}: it is not a file`, 'remove or rename it; nfhot keeps its include there');
  // Root may write anything: a file made read-only says not to, for nfhot too.
  if (stat && (stat.mode & 0o222) === 0) throw new UserError(`cannot write ${path}: it is read-only`, `make it writable (chmod u+w ${path}) to let nfhot keep it`);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text ?? '');
    if (text === undefined) return await rm(tmp);
    stopPoint('include:write');
    await rename(tmp, path);
    await removeLeftTemporaries(path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new UserError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check that the pipeline directory is writable');
  }
}

/** Temporary files of runs killed before they could rename them. */
async function removeLeftTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  for (const name of await readdir(dirname(path))) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && Number.isInteger(pid) && !alive(pid)) await rm(join(dirname(path), name), { force: true });
  }
}

/** The SIF files nfhot built for the patched derivatives, where Nextflow's cache directory for either engine has them. */
function sifFiles(model: PipelineModel, states: ImageState[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const s of states) {
    if (!s.derivative) continue;
    const path = SIF_ENGINES.map((e) => join(sifCacheDir(e, model.dir, model.sif), sifName(s.derivative!))).find((p) => existsSync(p));
    if (path) files.set(s.derivative, path);
  }
  return files;
}

/** Fails now, before images change, when the pipeline's include could not be written afterwards. */
export async function checkIncludeWritable(dir: string): Promise<void> {
  await writeAtomically(join(dir, INCLUDE_FILE));
}

export interface IncludeResult {
  path: string;
  written: boolean;
  /** Whether nextflow.config includes it. */
  included: boolean;
  overrides: { image: string; reference: string; selector: string; processes: string[] }[];
  notes: string[];
}

/**
 * Rewrites the pipeline's nfhot.config from what the daemon says is patched now (not on
 * --dry-run), says which processes it points where, and how to use it.
 */
export async function updateInclude(ctx: Context, model: PipelineModel, options: { dryRun?: boolean; addInclude?: boolean } = {}): Promise<IncludeResult> {
  const states = readState(await ctx.engine.listImages());
  const plan = planInclude(model, states, sifFiles(model, states));
  const path = join(model.dir, INCLUDE_FILE);
  if (!options.dryRun) {
    for (const alias of plan.aliases) await ctx.engine.tag(alias.from, alias.to);
    await writeAtomically(path, renderInclude(plan));
  }
  for (const note of plan.notes) ctx.report.warn(note);
  for (const o of plan.overrides) ctx.report.info(`${o.instances.map((i) => i.fqn ?? i.alias).join(', ')} → ${o.reference}`);
  const added = !options.dryRun && options.addInclude ? await addIncludeLine(model.dir) : false;
  const included = await includesNfhot(model.dir);
  if (added) ctx.report.info(`added ${INCLUDE_LINE} at the end of ${join(model.dir, 'nextflow.config')}`);
  else if (!included) ctx.report.info(`to use ${path}, add once at the end of nextflow.config:  ${INCLUDE_LINE}   (or: nextflow run ... -c ${path})`);
  return {
    path,
    written: !options.dryRun,
    included,
    overrides: plan.overrides.map((o) => ({ image: o.image, reference: o.reference, selector: o.selector, processes: o.instances.map((i) => i.fqn ?? i.alias) })),
    notes: plan.notes,
  };
}
