import { resolve } from 'node:path';
import type { Context } from '../core/base/context.js';
import { InterruptedError, UsageError, UserError } from '../core/base/errors.js';
import { isDirectory } from '../core/base/util.js';
import type { TreeRef } from '../core/ports/git.js';
import { Coalescer, watchTree } from '../core/loop/watch.js';
import { patch, type PatchResult } from './patch.js';
import { rollback } from './rollback.js';
import { paramsOfCommand } from '../core/pipeline/params.js';
import type { RunOptions } from '../core/pipeline/syntax.js';

export interface WatchOptions {
  /** The working copy to patch from, as `nfhot patch ./dir`. */
  dir: string;
  images: string[];
  pipeline?: string;
  profiles?: string[];
  /** The run the pipeline is read for: its parser and params (--syntax, --params-file, --param). */
  run?: RunOptions;
  include?: string;
  python?: string;
  noDeps?: boolean;
  keepTag?: boolean;
  /** REGISTRY[/PREFIX]: push each patch there, for executors off this machine (the include pins it by digest). */
  push?: string;
  /** Run after each successful patch (an argument vector: no shell). */
  command?: string[];
  /** On Ctrl-C, roll the patched images back instead of leaving the last good patch. */
  rollbackOnExit?: boolean;
}

export interface WatchResult {
  /** The good patches made (the first included). */
  patches: number;
  /** The images the last good patch is on (rolled back, with rollbackOnExit). */
  images: string[];
}

/**
 * What a `nextflow run …` command gives the reading of the pipeline when nfhot's own options do
 * not: its -profile, its -params-file, --NAME VALUE params and -c files.
 */
function ofCommand(options: WatchOptions): Pick<WatchOptions, 'profiles' | 'run'> {
  const command = options.command ?? [];
  if (!command.some((a) => /(^|\/)nextflow$/.test(a)) || !command.includes('run')) return {};
  const at = command.indexOf('-profile');
  const profiles =
    options.profiles ?? (at >= 0 && command[at + 1] ? command[at + 1]!.split(',').filter(Boolean) : undefined);
  const given = options.run?.params?.length || options.run?.paramsFile;
  const { file, pairs } = paramsOfCommand(command);
  // Its -c files (a site's config), unless nfhot's own are given; nfhot's include among them is left out when read.
  const configs = options.run?.configs?.length
    ? []
    : command.flatMap((a, i) => ((a === '-c' || a === '-config') && command[i + 1] ? [command[i + 1]!] : []));
  const base = given
    ? options.run
    : { ...options.run, ...(file ? { paramsFile: file } : {}), ...(pairs.length ? { params: pairs } : {}) };
  const run = configs.length ? { ...base, configs } : base;
  return { ...(profiles ? { profiles } : {}), ...(run ? { run } : {}) };
}

/** How long the working copy must be quiet before a patch: a burst of saves gives one. */
const QUIET_MS = 200;

/** A short list of paths, for the status line. */
function list(paths: string[]): string {
  return paths.length <= 3 ? paths.join(', ') : `${paths.slice(0, 3).join(', ')} and ${paths.length - 3} more`;
}

/** One watch: the patches made, the working copy's tree the last good one was made from. */
class Session {
  readonly state: WatchResult = { patches: 0, images: [] };
  private tree: TreeRef | undefined;

  constructor(
    private readonly options: WatchOptions,
    private readonly dir: string,
    private readonly ctx: Context,
    private readonly patched: (result: PatchResult) => void,
  ) {}

  /** A patch of the working copy as it is now, as `nfhot patch DIR` makes it (syntax checked). */
  patch(): Promise<PatchResult> {
    const o = this.options;
    return patch(
      {
        source: this.dir,
        images: o.images,
        ...(o.pipeline !== undefined ? { pipeline: o.pipeline } : {}),
        ...(o.profiles ? { profiles: o.profiles } : {}),
        ...(o.run ? { run: o.run } : {}),
        ...(o.include !== undefined ? { include: o.include } : {}),
        ...(o.python !== undefined ? { python: o.python } : {}),
        noDeps: o.noDeps ?? false,
        keepTag: o.keepTag ?? false,
        ...(o.push !== undefined ? { push: o.push } : {}),
        checkSyntax: true,
      },
      this.ctx,
    );
  }

  /** The files changed since the last good patch. */
  private async changedSince(result: PatchResult): Promise<string[]> {
    const made = result.images.flatMap((i) => i.patches).find((p) => p.kind === 'dir' && p.path === this.dir)?.tree;
    const now = made ? await this.ctx.git.available(made, this.dir) : undefined;
    const changed =
      this.tree && now && this.tree.tree !== now.tree
        ? (await this.ctx.git.changedFiles(this.tree, now).catch(() => [])).map((c) => c.path)
        : [];
    this.tree = now ?? this.tree;
    return changed;
  }

  /** A good patch: its references out, the command run. */
  async done(result: PatchResult, started: number): Promise<void> {
    const { ctx, state } = this;
    const seconds = (performance.now() - started) / 1000;
    state.images = [...new Set([...state.images, ...result.images.map((i) => i.image)])];
    const changed = await this.changedSince(result);
    if (state.patches > 0 && result.images.every((i) => i.action === 'unchanged')) {
      return ctx.report.info(`watch: nothing the package is made from changed (${seconds.toFixed(1)} s); watching`);
    }
    state.patches++;
    this.patched(result);
    for (const f of result.failed ?? []) ctx.report.warn(`watch: ${f.image}: ${f.error}`);
    ctx.report.info(
      `watch: patched in ${seconds.toFixed(1)} s${changed.length ? ` (${list(changed)} changed)` : ''}: ${result.images.map((i) => `${i.image} ${i.action}`).join(', ')}`,
    );
    await this.runCommand(result);
    ctx.report.info('watch: watching for changes');
  }

  /** The command after a good patch; asked to push, not before the registry has the patch (it would strand the run's nodes). */
  private async runCommand(result: PatchResult): Promise<void> {
    const { ctx, options } = this;
    const unpushed =
      options.push === undefined ? [] : result.images.filter((i) => !result.pushed?.some((p) => p.image === i.image));
    if (unpushed.length) {
      ctx.report.warn(
        `watch: ${unpushed.map((i) => i.image).join(', ')} not pushed to ${options.push}: the include names no digest the registry lacks (it gives ${unpushed.length === 1 ? 'it' : 'them'} this machine's patch), and the command is not run; the next save pushes again`,
      );
    } else if (options.command?.length && !ctx.signal.aborted) {
      ctx.report.info(`watch: running ${options.command.join(' ')}`);
      const code = await ctx.programs.attach(options.command[0]!, options.command.slice(1));
      ctx.report.info(`watch: ${options.command[0]} exited with ${code ?? 'no exit code (it could not start)'}`);
    }
  }

  /** A patch after changes: a failure is said, and the last good patch stays. */
  async again(changes: string[]): Promise<void> {
    const { ctx } = this;
    if (ctx.signal.aborted) return;
    ctx.report.info(`watch: ${changes.length === 1 ? `${changes[0]} changed` : 'changes seen'}: patching …`);
    const started = performance.now();
    let result: PatchResult;
    try {
      result = await this.patch();
    } catch (err) {
      if (err instanceof InterruptedError || ctx.signal.aborted) return;
      const why =
        err instanceof UserError
          ? `${err.message}${err.hint ? ` (${err.hint})` : ''}`
          : String((err as Error)?.message ?? err);
      ctx.report.warn(`watch: the patch failed; the last good one stays. ${why}`);
      return ctx.report.info('watch: watching for the next change');
    }
    await this.done(result, started);
  }

  /** Stopped: the last good patch stays, or (asked) the images are rolled back. */
  async stop(): Promise<void> {
    const { ctx, options, state } = this;
    if (!options.rollbackOnExit || !state.images.length) {
      return ctx.report.info(
        `watch: stopped; the last good patch stays on ${state.images.join(', ')} (undo it with: nfhot rollback ${state.images.join(' ')})`,
      );
    }
    // The run's signal is spent: the rollback runs to its end.
    const result = await rollback(
      {
        images: state.images,
        ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
        ...(options.profiles ? { profiles: options.profiles } : {}),
        ...(options.run ? { run: options.run } : {}),
        ...(options.include !== undefined ? { include: options.include } : {}),
      },
      { ...ctx, signal: new AbortController().signal },
    );
    ctx.report.info(`watch: stopped; rolled back ${result.images.map((i) => i.image).join(', ')}`);
  }
}

/**
 * Patches a working copy into its images, then again after every change (debounced and
 * coalesced: a burst of saves gives one patch, and changes during a patch or the command give one
 * more after it), running `command` after each good patch, until the run's signal (Ctrl-C).
 * A failed patch leaves the last good one in place and watching goes on.
 */
export async function watch(
  given: WatchOptions,
  ctx: Context,
  patched: (result: PatchResult) => void,
): Promise<WatchResult> {
  const options = { ...given, ...ofCommand(given) };
  const dir = resolve(options.dir);
  if (!isDirectory(dir))
    throw new UsageError(
      `no such directory: ${options.dir}`,
      'nfhot watch takes the working copy of the package (a directory)',
    );
  const session = new Session(options, dir, ctx, patched);
  // Watching starts now: a save made during the first patch (or its command) gives a patch after it.
  const early: string[] = [];
  let work: Coalescer<string> | undefined;
  const watcher = watchTree(dir, (relative) => (work ? work.poke(relative) : early.push(relative)));
  // The first patch fails the command when it cannot be made (no image, not a project, a build error).
  ctx.report.info(`watch: ${dir}: first patch …`);
  try {
    const started = performance.now();
    await session.done(await session.patch(), started);
  } catch (err) {
    watcher.close();
    throw err;
  }
  work = new Coalescer<string>((changes) => session.again(changes), QUIET_MS);
  for (const change of early) work.poke(change);
  await new Promise<void>((stop) =>
    ctx.signal.aborted ? stop() : ctx.signal.addEventListener('abort', () => stop(), { once: true }),
  );
  watcher.close();
  await work.stop();
  await session.stop();
  return session.state;
}
