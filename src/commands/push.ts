import type { Context } from '../core/base/context.js';
import { imageFailure, UsageError, UserError, type ImageFailure } from '../core/base/errors.js';
import type { IncludeResult } from '../core/pipeline/include-file.js';
import { syncIncludes, type KeptIncludeResult } from '../core/pipeline/kept.js';
import { pipelineDir, readPipeline } from '../core/pipeline/model.js';
import { parseImageRef, pushedRef, registryTarget } from '../core/image/reference.js';
import { readState } from '../core/image/state.js';
import type { RunOptions } from '../core/pipeline/syntax.js';

export interface PushOptions {
  /** Patched images to push (default: every patched image). */
  images: string[];
  /** REGISTRY[/PREFIX]. */
  to: string;
  pipeline?: string;
  profiles?: string[];
  /** The run the pipeline is read for: its parser and params (--syntax, --params-file, --param). */
  run?: RunOptions;
  include?: string;
}

export interface ImagePushResult {
  image: string;
  derivative: string;
  /** The pushed reference pinned by digest: what the include gives the affected processes. */
  reference: string;
  /** Layers uploaded, and layers the registry had already (the original's, after the first push). */
  uploaded: number;
  existing: number;
}

async function pushOne(ctx: Context, image: string, derivative: string, to: string): Promise<ImagePushResult> {
  const target = pushedRef(derivative, to);
  const had = await ctx.engine.inspectImage(target);
  await ctx.engine.tag(derivative, target);
  try {
    const pushed = await ctx.report.step(`pushing ${target}`, () =>
      ctx.engine.push(target, (layer, status) => ctx.report.info(`  layer ${layer}: ${status}`)),
    );
    const uploaded = pushed.layers.filter((l) => l.status === 'Pushed').length;
    // Pinned by digest alone: a tag and a digest together fail Nextflow's name check on AWS Batch.
    const reference = `${parseImageRef(target).name}@${pushed.digest}`;
    const layers = pushed.layers.length
      ? `${uploaded} layer${uploaded === 1 ? '' : 's'} uploaded, ${pushed.layers.length - uploaded} already there`
      : 'the engine tells nothing of layers';
    ctx.report.info(`${image} → ${reference} (${layers})`);
    return { image, derivative, reference, uploaded, existing: pushed.layers.length - uploaded };
  } catch (err) {
    if (!had) await ctx.engine.untag(target); // a failed push leaves nothing behind locally
    throw err;
  }
}

/**
 * Pushes the active derivative of each image (all patched ones when none is named) to `to`. An
 * image that cannot be pushed does not stop the others: `failed` says which, and why.
 */
export async function pushImages(
  ctx: Context,
  images: string[],
  to: string,
): Promise<{ images: ImagePushResult[]; failed: ImageFailure[] }> {
  registryTarget(to); // a bad --to fails before anything moves
  const states = readState(await ctx.engine.listImages()).filter((s) => s.state === 'patched' && s.derivative);
  const wanted = images.length
    ? [...new Set(images.map((i) => parseImageRef(i).familiar))]
    : states.map((s) => s.image);
  if (!wanted.length)
    throw new UsageError('no patched image to push', 'patch one first (nfhot patch …), or name images');
  const done: ImagePushResult[] = [];
  const failed: ImageFailure[] = [];
  for (const image of wanted) {
    try {
      const state = states.find((s) => s.image === image);
      if (!state)
        throw new UserError(
          `${image} is not patched: there is nothing of nfhot's to push`,
          'nfhot status lists the patched images',
        );
      done.push(await pushOne(ctx, image, state.derivative!, to));
    } catch (err) {
      failed.push(imageFailure(image, err));
      if (wanted.length > 1) ctx.report.warn(`${image}: ${failed.at(-1)!.error}`);
    }
  }
  return { images: done, failed };
}

/**
 * Pushes patched images to a registry, under names derived from their originals, and points the
 * includes at them by digest, so that every worker runs the same bytes.
 */
export async function push(
  options: PushOptions,
  ctx: Context,
): Promise<{
  images: ImagePushResult[];
  failed?: ImageFailure[];
  include?: IncludeResult;
  includes?: KeptIncludeResult[];
}> {
  const dir = pipelineDir(options.pipeline);
  await ctx.engine.ping();
  const { images, failed } = await pushImages(ctx, options.images, options.to);
  if (!images.length && failed[0]) throw failed[0].cause; // nothing was pushed: nothing to rewrite
  const synced = await syncIncludes(ctx, dir ? { model: await readPipeline(ctx, dir, options) } : undefined);
  return {
    images,
    ...(failed.length ? { failed } : {}),
    ...(synced.include ? { include: synced.include } : {}),
    ...(synced.others.length ? { includes: synced.others } : {}),
  };
}
