import type { Context } from '../core/base/context.js';
import { UsageError, UserError } from '../core/base/errors.js';
import { holderLabels, throwawayName } from '../core/image/lock.js';
import { pipelineDir, readPipeline } from '../core/pipeline/model.js';
import { readImageRef } from '../core/image/reference.js';
import { readState } from '../core/image/state.js';
import { resolve } from './resolve.js';
import type { RunOptions } from '../core/pipeline/syntax.js';

export interface ShellOptions {
  /** The image (default: the patched image of the pipeline in the current directory, or the only patched image). */
  image?: string;
  /** Run as the caller's uid:gid, as nf-core's docker profile runs tasks (`-u $(id -u):$(id -g)`). */
  asTask?: boolean;
  /** What to run instead of an interactive shell. */
  command?: string[];
  pipeline?: string;
  profiles?: string[];
  /** The run the pipeline is read for: its parser and params (--syntax, --params-file, --param). */
  run?: RunOptions;
  /** Asks which of several images (when there is a terminal to ask on). */
  choose?: (images: string[]) => Promise<string>;
  /** Whether nfhot's stdin and stdout are a terminal: then the container gets one too. */
  tty: boolean;
  cwd: string;
}

/** Bash when the image has it, else sh. */
const SHELL = ['/bin/sh', '-c', 'if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh'];

/** The patched image a shell goes into when none is named: the pipeline's, else any; asked when there are several. */
async function defaultImage(options: ShellOptions, ctx: Context): Promise<string> {
  const patched = readState(await ctx.engine.listImages())
    .filter((s) => s.state === 'patched')
    .map((s) => s.image);
  const dir = pipelineDir(options.pipeline);
  let candidates = patched;
  if (dir) {
    const model = await readPipeline(ctx, dir, { profiles: options.profiles, run: options.run });
    const used = new Set(
      model.instances.flatMap((i) =>
        i.container?.kind === 'image' ? [readImageRef(i.container.image)?.familiar ?? i.container.image] : [],
      ),
    );
    candidates = patched.filter((p) => used.has(p));
    if (!candidates.length)
      throw new UserError(`no image of the pipeline in ${dir} is patched`, 'name the image: nfhot shell IMAGE');
  }
  if (candidates.length === 1) return candidates[0]!;
  if (!candidates.length) throw new UserError('no image is patched', 'name the image: nfhot shell IMAGE');
  if (options.choose) return options.choose(candidates);
  throw new UsageError(
    `${candidates.length} images are patched: name one (${candidates.join(', ')})`,
    'nfhot shell IMAGE',
  );
}

/**
 * A shell (or a command) in the patched image, as a task would run there: through the image's
 * entrypoint, the current directory mounted at the same path and used as the working directory;
 * a terminal when nfhot has one, stdin passed through otherwise. Resolves to its exit code.
 */
export async function shell(
  options: ShellOptions,
  ctx: Context,
): Promise<{ image: string; reference: string; exitCode: number }> {
  await ctx.engine.ping();
  const image = options.image ?? (await defaultImage(options, ctx));
  const reference = await resolve(image, ctx);
  if (reference === image) ctx.report.warn(`${image} is not patched: the shell is in the image as it is`);
  // -v cannot say a path with a colon; --mount can.
  const mountHere = options.cwd.includes(':')
    ? ['--mount', `type=bind,source=${options.cwd},target=${options.cwd}`]
    : ['-v', `${options.cwd}:${options.cwd}`];
  const labels = Object.entries(holderLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const user = options.asTask ? ['-u', `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`] : [];
  const argv = [
    'run',
    '--rm',
    '-i',
    ...(options.tty ? ['-t'] : []),
    '--name',
    throwawayName('shell'),
    ...labels,
    ...mountHere,
    '-w',
    options.cwd,
    ...user,
    reference,
    ...(options.command?.length ? options.command : SHELL),
  ];
  ctx.report.info(
    `${options.command?.length ? 'running' : 'shell'} in ${reference}${options.asTask ? ' as the task user' : ''}`,
  );
  const code = await ctx.programs.attach(ctx.engine.cli, argv, {
    stdin: 'inherit',
    stdout: 'stdout',
    signal: ctx.signal,
  });
  if (code === undefined)
    throw new UserError(
      `cannot run ${ctx.engine.cli}: it is not on PATH`,
      `nfhot shell runs the ${ctx.engine.cli} command line for the terminal`,
    );
  return { image, reference, exitCode: code };
}
