// The includes nfhot keeps: every pipeline whose nfhot.config it wrote, so that a command run
// anywhere (a rollback from another directory, a patch of one image) rewrites them all from the
// daemon's state. One small file per include in nfhot's state directory: adding or dropping one
// never rewrites another's (two nfhot processes can keep includes at once).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Context } from '../base/context.js';
import { stateDir } from '../base/dirs.js';
import { hashHex } from '../image/reference.js';
import { readState, type ImageState } from '../image/state.js';
import { withHostLock, writeFileAtomic } from '../base/util.js';
import { includeReferences } from './include.js';
import { writeIncludeFor, type IncludeResult } from './include-file.js';
import { includePath, isPipelineDir, scanPipeline, type PipelineModel } from './model.js';
import type { Params } from './params.js';
import type { Syntax } from './syntax.js';

export interface KeptInclude {
  /** The pipeline's directory (absolute). */
  dir: string;
  /** Its include, when it is not `<dir>/nfhot.config` (--include FILE). */
  include?: string;
  /** The profiles the include is computed for. */
  profiles: string[];
  /** The parser, and the run's params, it is computed with (older entries have neither). */
  syntax?: Syntax;
  params?: Params;
  /** The run's -c files it is read with. */
  configs?: string[];
  /** The engine whose state it shows (its address): only commands talking to it rewrite it. */
  engine: string;
}

const keptDir = () => join(stateDir(), 'includes');
/** One entry per include: by its pipeline directory (the include there) or its own path. */
const entryFile = (k: Pick<KeptInclude, 'dir' | 'include'>) =>
  join(keptDir(), `${hashHex(resolve(k.include ?? k.dir)).slice(0, 24)}.json`);
const pathOf = (k: Pick<KeptInclude, 'dir' | 'include'>) => includePath(k.dir, k.include);

/** Every include nfhot keeps, of every engine. */
export async function keptIncludes(): Promise<KeptInclude[]> {
  const names = await readdir(keptDir()).catch(() => [] as string[]);
  const entries = await Promise.all(
    names
      .filter((n) => n.endsWith('.json'))
      .map(async (n) => {
        try {
          const e = JSON.parse(await readFile(join(keptDir(), n), 'utf8')) as KeptInclude;
          return typeof e.dir === 'string' && Array.isArray(e.profiles) && typeof e.engine === 'string' ? [e] : [];
        } catch {
          return []; // half a file from a killed run, or not ours: the next write replaces it
        }
      }),
  );
  return entries.flat().sort((a, b) => a.dir.localeCompare(b.dir));
}

async function keep(entry: KeptInclude): Promise<void> {
  await mkdir(keptDir(), { recursive: true });
  await writeFileAtomic(entryFile(entry), `${JSON.stringify(entry)}\n`);
}

async function forget(k: KeptInclude): Promise<void> {
  await rm(entryFile(k), { force: true });
}

/** Whether the include is still there to keep: a pipeline whose include is gone (or that is gone) is dropped. */
const stillThere = (k: KeptInclude) => isPipelineDir(k.dir) && existsSync(pathOf(k));

export interface KeptIncludeResult {
  path: string;
  /** rewritten: from the daemon's state now; dropped: the pipeline or its include is gone, nfhot no longer keeps it; failed: see error. */
  action: 'rewritten' | 'dropped' | 'failed';
  overrides?: number;
  error?: string;
}

/**
 * Rewrites from the daemon's state the pipeline's include (`current`: the pipeline the command
 * was run in or pointed at, which nfhot keeps from now on), then every other include nfhot keeps
 * for this engine. An include of another pipeline that cannot be rewritten is reported, not
 * thrown: the command's own work is done.
 */
export async function syncIncludes(
  ctx: Context,
  current?: { model: PipelineModel; dryRun?: boolean; addInclude?: boolean },
): Promise<{ include?: IncludeResult; others: KeptIncludeResult[] }> {
  if (current?.dryRun)
    return { include: await writeIncludeFor(ctx, current.model, await currentStates(ctx), current), others: [] };
  if (!current && !(await keptIncludes()).some((k) => k.engine === ctx.engine.address)) return { others: [] }; // nothing to keep in step
  return withWriters(async () => {
    const states = await currentStates(ctx);
    const include = current && (await writeIncludeFor(ctx, current.model, states, current));
    const mine = current && {
      dir: current.model.dir,
      ...(current.model.include !== includePath(current.model.dir) ? { include: current.model.include } : {}),
    };
    if (mine)
      await keep({
        ...mine,
        profiles: current.model.profiles,
        syntax: current.model.syntax,
        ...(Object.keys(current.model.params).length ? { params: current.model.params } : {}),
        ...(current.model.configs.length ? { configs: current.model.configs } : {}),
        engine: ctx.engine.address,
      });
    const others: KeptIncludeResult[] = [];
    for (const k of await keptIncludes()) {
      if (k.engine !== ctx.engine.address || pathOf(k) === current?.model.include) continue;
      others.push(await rewriteKept(ctx, k, states));
    }
    return { ...(include ? { include } : {}), others };
  });
}

const currentStates = async (ctx: Context) => readState(await ctx.engine.listImages());

/**
 * One writer of includes at a time on this host, reading the daemon's state once it writes: of
 * two commands that finish together, the later one's includes hold both changes.
 */
function withWriters<T>(work: () => Promise<T>): Promise<T> {
  return withHostLock(join(stateDir(), 'includes.lock'), work);
}

async function rewriteKept(ctx: Context, k: KeptInclude, states: ImageState[]): Promise<KeptIncludeResult> {
  const path = pathOf(k);
  if (!stillThere(k)) {
    await forget(k);
    ctx.report.info(`${path} is gone: nfhot no longer keeps it`);
    return { path, action: 'dropped' };
  }
  try {
    const result = await writeIncludeFor(
      ctx,
      await scanPipeline(k.dir, k.profiles, k.include, {
        ...(k.syntax ? { syntax: k.syntax } : {}),
        ...(k.params ? { params: k.params } : {}),
        ...(k.configs ? { configs: k.configs.filter((c) => existsSync(c)) } : {}),
      }),
      states,
      { quiet: true },
    );
    if (result.changed)
      ctx.report.info(
        `rewrote ${path}, which nfhot keeps: ${result.overrides.length ? `${result.overrides.length} override(s)` : 'it overrides nothing now'}`,
      );
    return { path, action: 'rewritten', overrides: result.overrides.length };
  } catch (err) {
    const error = (err as Error).message;
    ctx.report.warn(
      `cannot rewrite ${path}, which nfhot keeps: ${error}; rewrite it with: nfhot config --pipeline ${k.dir}`,
    );
    return { path, action: 'failed', error };
  }
}

/**
 * The kept includes of this engine that name a reference the daemon's state no longer gives
 * (a run killed before it rewrote them, an image removed by hand), rewritten. The others are
 * left alone: reading them is all this costs.
 */
export async function repairIncludes(ctx: Context): Promise<KeptIncludeResult[]> {
  const kept = (await keptIncludes()).filter((k) => k.engine === ctx.engine.address);
  if (!kept.length) return [];
  return withWriters(async () => {
    const states = await currentStates(ctx);
    const live = states.flatMap((s) => (s.state === 'patched' ? [s.derivative!, ...(s.pushed ?? [])] : []));
    const repaired: KeptIncludeResult[] = [];
    for (const k of kept) {
      const text = await readFile(pathOf(k), 'utf8').catch(() => undefined);
      // With docker.registryOverride a reference carries the registry in front of the derivative's name.
      const stale =
        text === undefined || includeReferences(text).some((r) => !live.some((l) => r === l || r.endsWith(`/${l}`)));
      if (stale) repaired.push(await rewriteKept(ctx, k, states));
    }
    return repaired;
  });
}
