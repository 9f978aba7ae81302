import type { Context } from '../core/base/context.js';
import { imageFailure, UsageError, UserError, type ImageFailure } from '../core/base/errors.js';
import { reap, withLock } from '../core/image/lock.js';
import { notInDaemon } from '../core/patch/targets.js';
import { checkIncludeWritable, type IncludeResult } from '../core/pipeline/include-file.js';
import { syncIncludes, type KeptIncludeResult } from '../core/pipeline/kept.js';
import { includePath, pipelineDir, readPipeline } from '../core/pipeline/model.js';
import type { ImageSummary } from '../core/ports/engine.js';
import { fromLabels } from '../core/image/record.js';
import { isNfhotRef, keeperRef, parseImageRef, shortId } from '../core/image/reference.js';
import { imageBehind, readState, type ImageState } from '../core/image/state.js';
import { stopPoint } from '../core/base/stop-point.js';
import type { RunOptions } from '../core/pipeline/syntax.js';

export interface RollbackOptions {
  images: string[];
  all?: boolean;
  force?: boolean;
  /** The pipeline whose nfhot.config to rewrite (default: the current directory when it is one). */
  pipeline?: string;
  profiles?: string[];
  /** The run the pipeline is read for: its parser and params (--syntax, --params-file, --param). */
  run?: RunOptions;
  include?: string;
}

export interface ImageRollbackResult {
  image: string;
  /** rolledBack: the tag points at the original again; unchanged: it was not patched. */
  action: 'rolledBack' | 'unchanged';
  original?: string;
}

export interface RollbackResult {
  images: ImageRollbackResult[];
  /** Images not rolled back, and why (re-pointed since the patch, busy, not in the daemon); the command then exits 1. */
  failed?: ImageFailure[];
  include?: IncludeResult;
  includes?: KeptIncludeResult[];
}

/**
 * Points each tag at its exact original image again, and removes what nfhot made for it: the
 * keeper tag of the original and the derivatives (unless something else still tags or runs them).
 * An image that cannot be rolled back does not stop the others; every include nfhot keeps is
 * then rewritten.
 */
export async function rollback(options: RollbackOptions, ctx: Context): Promise<RollbackResult> {
  if (options.all && options.images.length > 0) throw new UsageError('give images or --all, not both');
  if (!options.all && options.images.length === 0)
    throw new UsageError('no image to roll back', 'name images, or use --all for every patched image');
  const dir = pipelineDir(options.pipeline);
  if (dir) await checkIncludeWritable(includePath(dir, options.include));
  await ctx.engine.ping();
  await reap(ctx.engine);
  const images = await ctx.engine.listImages();
  const states = readState(images);
  const wanted = options.all
    ? states.map((s) => s.image)
    : [...new Set(await Promise.all(options.images.map((i) => imageNamed(ctx, i))))];
  const results: ImageRollbackResult[] = [];
  const failed: ImageFailure[] = [];
  for (const image of wanted) {
    try {
      results.push(
        await rollbackOne(
          ctx,
          image,
          states.find((s) => s.image === image),
          images,
          options.force ?? false,
        ),
      );
    } catch (err) {
      failed.push(imageFailure(image, err));
      if (wanted.length > 1) ctx.report.warn(`${image}: ${failed.at(-1)!.error}`);
    }
  }
  if (!results.length && failed[0]) throw failed[0].cause; // nothing was rolled back: nothing to rewrite
  const synced = await syncIncludes(ctx, dir ? { model: await readPipeline(ctx, dir, options) } : undefined);
  return {
    images: results,
    ...(failed.length ? { failed } : {}),
    ...(synced.include ? { include: synced.include } : {}),
    ...(synced.others.length ? { includes: synced.others } : {}),
  };
}

/** The image a name given to rollback stands for: one of nfhot's references stands for the image it patches (said). */
async function imageNamed(ctx: Context, name: string): Promise<string> {
  const image = await imageBehind(ctx.engine, name);
  if (image !== name) ctx.report.info(`${name} is nfhot's reference of ${image}: rolling back ${image}`);
  return parseImageRef(image).familiar;
}

async function rollbackOne(
  ctx: Context,
  image: string,
  state: ImageState | undefined,
  images: ImageSummary[],
  force: boolean,
): Promise<ImageRollbackResult> {
  const derivatives = images.filter((i) => fromLabels(i.labels)?.image === image);
  const removeLeftovers = async () => {
    await ctx.engine.untag(keeperRef(parseImageRef(image)));
    stopPoint('rollback:untag-keeper');
    // An untagged one was committed by a run killed before it could tag it. A derivative's own
    // reference goes last: kept while a container still uses the image, it names that patch set
    // alone, where the active reference (--keep-tag) would still name it as the image's patch.
    for (const d of derivatives) {
      const own = fromLabels(d.labels)?.derivative;
      const tags = d.repoTags.filter(isNfhotRef).sort((a, b) => Number(a === own) - Number(b === own));
      for (const tag of d.repoTags.length ? tags : [d.id]) await ctx.engine.untag(tag);
    }
  };
  if (!state) {
    const current = images.find((i) => i.repoTags.includes(image));
    if (!current) {
      if (derivatives.length) await removeLeftovers();
      throw notInDaemon(image); // a typo must not look like success
    }
    // nfhot's patch, its original removed (a layer nfhot loaded is no child of it, so `docker rmi`
    // of its ID took it with its keeper): nothing to go back to, and nothing to remove.
    const record = fromLabels(current.labels);
    const own =
      record && record.image === image && images.find((i) => i.repoTags.includes(record.derivative))?.id === current.id;
    if (own && !images.some((i) => i.id === record.original)) {
      throw new UserError(
        `${image} is nfhot's patch of ${shortId(record.original)}, which is no longer in the daemon (removed with docker rmi?): there is no original to roll back to`,
        `rebuild or pull ${image}; the next patch takes it as the original`,
      );
    }
    // Not patched, but nfhot's images may be left from before (the tag was rebuilt, or put back
    // by hand): remove them. The lock is made from the tagged image: one made from a derivative
    // would keep that derivative in use.
    if (derivatives.length) await withLock(ctx.engine, image, current.id, removeLeftovers);
    ctx.report.info(`${image} is not patched; nothing to roll back`);
    return { image, action: 'unchanged' };
  }
  if (state.state === 'moved' && !force) {
    throw new UserError(
      `${image} was re-pointed since nfhot patched it (it is now ${state.currentId ? shortId(state.currentId) : 'untagged'}); rolling back would overwrite that image`,
      `to restore the original (${shortId(state.originalId)}) anyway: nfhot rollback ${image} --force`,
    );
  }
  await withLock(ctx.engine, image, state.originalId, async () => {
    await ctx.engine.tag(state.originalId, image);
    stopPoint('rollback:tag');
    await removeLeftovers();
  });
  ctx.report.info(`${image} → original ${shortId(state.originalId)}`);
  return { image, action: 'rolledBack', original: state.originalId };
}
