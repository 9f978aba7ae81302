import { chmod, copyFile, mkdir, mkdtemp, stat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { Context } from '../core/base/context.js';
import { cacheDir } from '../core/base/dirs.js';
import { throwIfInterrupted, UsageError, UserError } from '../core/base/errors.js';
import { imageBehind } from '../core/image/state.js';
import { hashHex } from '../core/image/reference.js';
import { readWrapper, rewriteWrapper, RUN_FILES, stagedNames } from '../core/loop/task.js';
import { resolve } from './resolve.js';

export interface RerunOptions {
  /** The task's work directory. */
  dir: string;
  /** Run this image (resolved as `nfhot resolve` does) instead of the one the task ran. */
  image?: string;
  /** Run in the task's own directory (its outputs and .exitcode are overwritten) instead of a copy. */
  inPlace?: boolean;
  /** Where the task's stdout goes (nfhot's stdout carries JSON with --json). */
  stdout?: 'stdout' | 'stderr';
}

export interface RerunResult {
  task: string;
  name?: string;
  /** The image as the task's wrapper names it. */
  image: string;
  /** What it ran with now: the patched image's immutable reference, or the image itself when it is not patched. */
  reference: string;
  patched: boolean;
  /** Where it ran: a copy of the task directory, or the directory itself with --in-place. */
  ranIn: string;
  exitCode: number;
  /** Ctrl-C (or SIGTERM) stopped it, as Nextflow stops a task: `docker stop`. */
  stopped?: boolean;
  /** The files and directories the task left in `ranIn` (not its inputs, nor Nextflow's own files). */
  outputs: string[];
}

async function readTaskFile(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR')
      throw err;
    throw new UserError(
      `${dir} is not a Nextflow task directory: it has no ${file}`,
      "give a task directory under the pipeline's work/, e.g. work/3f/9a1c2e… (the hash is in the error report and the trace)",
    );
  }
}

/**
 * A fresh copy of what the wrapper needs to run the task again: its scripts, not the last run's
 * output (the wrapper stages the inputs again). The directory gets the task directory's mode, so
 * that a task user who could write there can write here. When the last rerun's files are not
 * ours to remove (a task that ran as root wrote them), the copy goes beside them. Returns where.
 */
async function copyTask(ctx: Context, from: string, to: string): Promise<string> {
  try {
    await rm(to, { recursive: true, force: true });
    await mkdir(to, { recursive: true });
  } catch (err) {
    if (!['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    const beside = await mkdtemp(`${to}-`);
    ctx.report.warn(
      `cannot remove the last rerun's files in ${to} (the task wrote them as another user): this one runs in ${beside}`,
    );
    to = beside;
  }
  await chmod(to, (await stat(from)).mode & 0o7777);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.startsWith('.command.') || RUN_FILES.has(entry.name)) continue;
    await copyFile(join(from, entry.name), join(to, entry.name));
  }
  return to;
}

/** What the run left in `dir`: its entries but Nextflow's files and the staged inputs (links). */
async function outputsIn(dir: string, inputs: Set<string>): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (
      entry.name.startsWith('.command.') ||
      entry.name === '.exitcode' ||
      inputs.has(entry.name) ||
      entry.isSymbolicLink()
    )
      continue;
    out.push(entry.name);
  }
  return out.sort();
}

/**
 * Runs a failed (or any) task again with the image as nfhot has it patched now, through
 * Nextflow's own wrapper: the same options, mounts, user, environment and staging, with only the
 * image replaced (and, for a copy, the directory). Resolves to the task's exit code.
 */
export async function rerun(options: RerunOptions, ctx: Context): Promise<RerunResult> {
  const dir = resolvePath(options.dir);
  const text = await readTaskFile(dir, '.command.run');
  await readTaskFile(dir, '.command.sh');
  const wrapper = readWrapper(text, options.dir);
  if (wrapper.engine === 'podman' && ctx.engine.kind !== 'podman') {
    throw new UsageError(
      `the task in ${options.dir} ran under Podman, and nfhot is talking to Docker`,
      'add --engine podman',
    );
  }
  await ctx.engine.ping();
  const image = options.image ?? (await imageBehind(ctx.engine, wrapper.image));
  const reference = await resolve(image, ctx);
  const patched = reference !== image;
  if (!patched) ctx.report.warn(`${image} is not patched: the task runs with the image as it is`);
  if (options.inPlace && resolvePath(wrapper.workDir) !== dir) {
    throw new UsageError(
      `the wrapper in ${options.dir} names another directory (${wrapper.workDir}): it was moved or copied`,
      'rerun it without --in-place (nfhot then runs it in a copy)',
    );
  }
  throwIfInterrupted(ctx.signal);
  const key = hashHex(dir).slice(0, 8);
  const copy = join(
    cacheDir(),
    'rerun',
    `${`${basename(dirname(dir))}-${basename(dir)}`.replace(/[^\w.-]/g, '_')}-${key}`,
  );
  const ranIn = options.inPlace ? dir : await copyTask(ctx, dir, copy);
  // In place, Nextflow's own .command.run stays as it is: the new one runs from outside the directory.
  const wrapperFile = options.inPlace
    ? join(tmpdir(), `nfhot-rerun-${process.pid}-${key}.run`)
    : join(ranIn, '.command.run');
  const script = rewriteWrapper(wrapper, reference, ranIn);
  await writeFile(wrapperFile, script, { mode: 0o755 });
  throwIfInterrupted(ctx.signal);
  const task = wrapper.name ? `${wrapper.name} (${options.dir})` : options.dir;
  ctx.report.info(`rerunning ${task} with ${reference}${options.inPlace ? ', in place' : ` in ${ranIn}`}`);
  let code: number | undefined;
  try {
    // The task's stdout to nfhot's stdout (unless it carries JSON), its stderr to stderr, whichever way the wrapper sends them.
    const out = options.stdout ?? 'stdout';
    const streams = wrapper.swapsOutput
      ? { stdout: 'stderr' as const, stderr: out }
      : { stdout: out, stderr: 'stderr' as const };
    code = await ctx.programs.attach('bash', [wrapperFile], {
      cwd: ranIn,
      stdin: 'ignore',
      ...streams,
      signal: ctx.signal,
    });
  } finally {
    if (options.inPlace) await rm(wrapperFile, { force: true });
  }
  if (code === undefined)
    throw new UserError(
      'cannot run bash on this machine',
      "nfhot rerun runs the task's wrapper with bash, as Nextflow does",
    );
  const stage = await readFile(join(ranIn, '.command.stage'), 'utf8').catch(() => '');
  const outputs = await outputsIn(ranIn, stagedNames(script + stage));
  return {
    task: options.dir,
    ...(wrapper.name ? { name: wrapper.name } : {}),
    image: wrapper.image,
    reference,
    patched,
    ranIn,
    exitCode: code,
    ...(ctx.signal.aborted ? { stopped: true } : {}),
    outputs,
  };
}
