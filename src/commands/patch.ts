import type { Context } from '../core/base/context.js';
import { InterruptedError, UsageError, type ImageFailure } from '../core/base/errors.js';
import { reap } from '../core/image/lock.js';
import { applyPatches, planPatches, plannedResults, resolveEarly, type ImagePatchResult } from '../core/patch/index.js';
import type { SkippedImage } from '../core/patch/targets.js';
import { checkIncludeWritable, type IncludeResult } from '../core/pipeline/include-file.js';
import { syncIncludes, type KeptIncludeResult } from '../core/pipeline/kept.js';
import { pipelineDir, readPipeline, type PipelineModel } from '../core/pipeline/model.js';
import { registryTarget } from '../core/image/reference.js';
import {
  buildSif,
  findSifProgram,
  requireSifProgram,
  sifCacheDir,
  type SifProgram,
} from '../core/image/singularity.js';
import { parseSource } from '../core/source/source.js';
import { isDirectory } from '../core/base/util.js';
import { pushImages, type ImagePushResult } from './push.js';
import type { RunOptions } from '../core/pipeline/syntax.js';

export type { ImagePatchResult } from '../core/patch/index.js';

export interface PatchOptions {
  source: string;
  images: string[];
  repo?: string;
  python?: string;
  noDeps?: boolean;
  /** Fail the patch when a module it installed does not compile (watch does). */
  checkSyntax?: boolean;
  dryRun?: boolean;
  /** Leave the image's own tag on the original: only the immutable reference (and the include) run the patch. */
  keepTag?: boolean;
  /** The pipeline whose nfhot.config to keep (default: the current directory when it is a pipeline). */
  pipeline?: string;
  /** Config profiles the pipeline is read with (default: `docker` when it defines one). */
  profiles?: string[];
  /** The run the pipeline is read for: its parser and params (--syntax, --params-file, --param). */
  run?: RunOptions;
  /** Where the pipeline's include goes (default: nfhot.config in the pipeline). */
  include?: string;
  /** Add `includeConfig 'nfhot.config'` to nextflow.config when it is missing. */
  addInclude?: boolean;
  /** REGISTRY[/PREFIX] to push the derivatives to; the include then pins them by digest. */
  push?: string;
  /** Build each derivative's SIF file for Singularity/Apptainer (also done when the pipeline enables one of them and its program is on PATH). */
  singularity?: boolean;
}

export interface PatchResult {
  source: string;
  commit?: string;
  /** The images patched (or, for a dry run, planned). */
  images: ImagePatchResult[];
  /** The images that could not be patched, and why; the command then exits 1. */
  failed?: ImageFailure[];
  /** The pipeline's images that were not patched, and why. */
  skipped?: SkippedImage[];
  include?: IncludeResult;
  /** The other pipelines' includes nfhot keeps, rewritten for what is patched now. */
  includes?: KeptIncludeResult[];
  pushed?: ImagePushResult[];
  /** The SIF file of each image's derivative, and whether it was built now (else it was there). */
  sif?: { image: string; path: string; built: boolean }[];
}

/**
 * The program to build SIF files with: asked for with --singularity (an error now, before anything
 * changes, when there is none), or because the pipeline enables Singularity/Apptainer.
 */
function sifProgram(ctx: Context, model: PipelineModel | undefined, asked: boolean): SifProgram | undefined {
  const enabled = model?.sif.enabled;
  if (asked) return requireSifProgram(enabled);
  const found = enabled && findSifProgram(enabled);
  if (enabled && !found)
    ctx.report.info(
      `the pipeline enables ${enabled}, but neither singularity nor apptainer is on PATH: no SIF file will be built`,
    );
  return found || undefined;
}

/** The SIF file of each derivative, in Nextflow's cache directory for that engine. */
async function buildSifs(
  ctx: Context,
  derivatives: { image: string; derivative: string }[],
  model: PipelineModel | undefined,
  { engine, program }: SifProgram,
): Promise<PatchResult['sif']> {
  const dir = sifCacheDir(engine, model?.dir ?? process.cwd(), model?.sif ?? { cacheDir: {} });
  const built: NonNullable<PatchResult['sif']> = [];
  for (const i of derivatives) {
    const sif = await ctx.report.step(`${i.image}: ${engine} image`, () =>
      buildSif(ctx.programs, program, i.derivative, dir, (line) => ctx.report.info(`  ${engine}| ${line}`)),
    );
    ctx.report.info(`${i.image}: ${sif.built ? 'built' : 'already had'} ${sif.path}`);
    built.push({ image: i.image, ...sif });
  }
  return built;
}

/**
 * Installs a source into images (named, or the pipeline's that have the package) and tags the
 * results; then pushes and builds SIF files when asked, and rewrites every include nfhot keeps.
 * Images that fail do not stop the others: `failed` says which, and why. Throws when none could
 * be patched (nothing changed then).
 */
export async function patch(options: PatchOptions, ctx: Context): Promise<PatchResult> {
  const spec = parseSource(options.source, isDirectory);
  const dir = checkOptions(options, spec);
  const resolving = resolveEarly(ctx, spec);
  await ctx.engine.ping();
  // What crashed runs left is removed alongside (a stale lock in our way is taken back by acquireLock itself).
  const reaping = options.dryRun ? Promise.resolve([]) : reap(ctx.engine).catch(() => []);
  const model = dir
    ? await ctx.report.step(`reading the pipeline in ${dir}`, () => readPipeline(ctx, dir, options))
    : undefined;
  if (model && !options.dryRun) await checkIncludeWritable(model.include);
  const sifBuilder = options.dryRun ? undefined : sifProgram(ctx, model, options.singularity ?? false);
  const plan = await planPatches(ctx, {
    source: spec,
    ...(resolving ? { resolving } : {}),
    images: options.images,
    ...(model ? { model } : {}),
    ...(options.repo !== undefined ? { repo: options.repo } : {}),
    ...(options.python !== undefined ? { python: options.python } : {}),
    noDeps: options.noDeps ?? false,
    checkSyntax: options.checkSyntax ?? false,
    keepTag: options.keepTag ?? false,
  });
  const about = {
    source: plan.source.display,
    ...(plan.source.commit ? { commit: plan.source.commit } : {}),
    ...(plan.skipped.length ? { skipped: plan.skipped } : {}),
  };
  if (options.dryRun) {
    const { images, failed } = plannedResults(plan);
    failIfNone(images, failed);
    const synced = model ? await syncIncludes(ctx, { model, dryRun: true }) : undefined;
    return {
      ...about,
      images,
      ...(failed.length ? { failed } : {}),
      ...(synced?.include ? { include: synced.include } : {}),
    };
  }
  const { images, failed } = await applyPatches(ctx, plan);
  failIfNone(images, failed);
  // What crashed runs left is gone before the command ends, whatever it ends with.
  const delivered = await deliver(ctx, options, images, failed, model, sifBuilder).finally(() => reaping);
  return { ...about, ...delivered };
}

/** The options checked before anything is read or changed; the pipeline's directory, if any. */
function checkOptions(options: PatchOptions, spec: ReturnType<typeof parseSource>): string | undefined {
  if (options.push !== undefined) registryTarget(options.push); // a bad registry fails before anything changes
  if (options.repo !== undefined && spec.kind !== 'name')
    throw new UsageError('--repo applies to a NAME@REF source only');
  if (
    options.repo !== undefined &&
    (options.repo === '' || options.repo.startsWith('-') || /[\x00-\x20]/.test(options.repo))
  ) {
    throw new UsageError(
      `invalid --repo ${JSON.stringify(options.repo)}: a repository URL or path cannot be empty, start with "-" or contain whitespace`,
      'e.g. --repo https://github.com/org/pkg.git, or --repo /srv/git/pkg.git',
    );
  }
  const dir = pipelineDir(options.pipeline);
  if (options.images.length === 0 && !dir) {
    throw new UsageError(
      'no image to patch',
      'name it with --image IMAGE, or run in (or point --pipeline at) the pipeline, whose images nfhot then finds',
    );
  }
  return dir;
}

/**
 * What was patched, delivered: pushed and built into SIF files when asked, then written into
 * every include whatever failed of those. An interruption or a failed SIF build is thrown after.
 */
async function deliver(
  ctx: Context,
  options: PatchOptions,
  images: ImagePatchResult[],
  failed: ImageFailure[],
  model: PipelineModel | undefined,
  sifBuilder: ReturnType<typeof sifProgram>,
): Promise<Omit<PatchResult, 'source' | 'commit' | 'skipped'>> {
  const names = images.map((i) => i.image);
  const pushing = options.push ? await pushImages(ctx, names, options.push) : undefined;
  failed.push(...(pushing?.failed ?? []));
  let sif: PatchResult['sif'];
  const sifFailure =
    sifBuilder &&
    (await buildSifs(ctx, images, model, sifBuilder).then(
      (built) => void (sif = built),
      (err: unknown) => err,
    ));
  const synced = await syncIncludes(ctx, model && { model, addInclude: options.addInclude ?? false });
  if (sifFailure) throw sifFailure;
  const interrupted = failed.find((f) => f.cause instanceof InterruptedError);
  if (interrupted) throw interrupted.cause;
  return {
    images,
    ...(failed.length ? { failed } : {}),
    ...(synced.include ? { include: synced.include } : {}),
    ...(synced.others.length ? { includes: synced.others } : {}),
    ...(pushing ? { pushed: pushing.images } : {}),
    ...(sif ? { sif } : {}),
  };
}

/** When no image could be patched, the command fails with the first reason: nothing changed. */
function failIfNone(images: ImagePatchResult[], failed: ImageFailure[]): void {
  if (images.length === 0 && failed[0]) throw failed[0].cause;
}
