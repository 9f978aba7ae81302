import { availableParallelism } from 'node:os';
import type { Context } from '../base/context.js';
import { UserError } from '../base/errors.js';
import type { PipelineModel } from '../pipeline/model.js';
import { probeImage } from '../interpreter/probe.js';
import { fromLabels } from '../image/record.js';
import { activeRef, isNfhotRef, parseImageRef, shortId } from '../image/reference.js';
import { mapLimit } from '../base/util.js';
import { lineage, type Target } from './plan.js';

export interface SkippedImage {
  image: string;
  why: string;
}

/** The image to patch as the daemon has it; undefined when the daemon does not have it. */
export async function inspectTarget(ctx: Context, input: string): Promise<Target | undefined> {
  if (isNfhotRef(input))
    throw new UserError(`${input} is one of nfhot's own references`, 'patch the image by the tag your pipeline uses');
  const ref = parseImageRef(input);
  const [current, activeImage] = await Promise.all([
    ctx.engine.inspectImage(ref.familiar),
    ctx.engine.inspectImage(activeRef(ref)),
  ]);
  if (!current) return undefined;
  const claimed = fromLabels(current.labels)?.derivative;
  const derivative = claimed ? await ctx.engine.inspectImage(claimed).catch(() => undefined) : undefined;
  const { originalId, activePatches } = lineage(ref.familiar, current, activeImage, derivative?.id);
  const original = originalId === current.id ? current : await ctx.engine.inspectImage(originalId);
  if (!original) {
    throw new UserError(
      `the original image of ${ref.familiar} (${shortId(originalId)}) is gone`,
      `rebuild or pull ${ref.familiar}; nfhot will take the new image as the original`,
    );
  }
  return { ref, current, original, activePatches, ...(activeImage ? { activeImageId: activeImage.id } : {}) };
}

/** The image named with --image: it must be in the daemon. */
export async function findTarget(ctx: Context, input: string): Promise<Target> {
  const target = await inspectTarget(ctx, input);
  if (!target) throw notInDaemon(parseImageRef(input).familiar);
  return target;
}

export function notInDaemon(image: string): UserError {
  return new UserError(
    `image ${image} is not in the local Docker daemon`,
    `pull or build it first (docker pull ${image})`,
  );
}

/** The pipeline's images that hold `dist`; the others are named with the reason they were skipped. */
export async function pipelineTargets(
  ctx: Context,
  model: PipelineModel,
  dist: string,
  python: string | undefined,
): Promise<{ targets: Target[]; skipped: SkippedImage[] }> {
  for (const i of model.instances) {
    if (i.container?.kind === 'unresolved') {
      ctx.report.warn(
        `${i.fqn ?? i.alias}: container ${i.container.text.replace(/\s+/g, ' ')} (${i.container.from}): ${i.container.why}; if it runs ${dist}, name its image with --image`,
      );
    }
  }
  const images = [
    ...new Set(model.instances.flatMap((i) => (i.container?.kind === 'image' ? [i.container.image] : []))),
  ].sort();
  const skipped: SkippedImage[] = [];
  const found = await mapLimit(images, availableParallelism(), async (image): Promise<Target | undefined> => {
    const target = await inspectTarget(ctx, image);
    if (!target) {
      skipped.push({ image, why: 'not in the local Docker daemon (pull or build it to patch it)' });
      return undefined;
    }
    const envs = await probeImage(ctx.engine, target.original, target.ref.familiar, dist, python);
    if (envs.some((e) => e.dist)) return target;
    skipped.push({ image, why: `it has no ${dist}` });
    return undefined;
  });
  for (const s of skipped) ctx.report.info(`skipped ${s.image}: ${s.why}`);
  const targets = found.filter((t): t is Target => t !== undefined);
  if (targets.length === 0) {
    throw new UserError(
      `none of the pipeline's images has ${dist} (${images.length} looked at)`,
      'build or pull the images first, or name one with --image',
    );
  }
  return { targets, skipped };
}
