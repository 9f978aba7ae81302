import type { Context } from '../core/context.js';
import { UsageError, UserError } from '../core/errors.js';
import { reap, withLock } from '../core/lock.js';
import { fromLabels } from '../core/record.js';
import { isNfhotRef, keeperRef, parseImageRef } from '../core/reference.js';
import { readState } from '../core/state.js';
import { stopPoint } from '../core/stop-point.js';
import { pipelineDir, scanPipeline } from '../core/pipeline/model.js';
import { checkIncludeWritable, updateInclude, type IncludeResult } from '../core/pipeline/include-file.js';

export interface RollbackOptions {
  images: string[];
  all?: boolean;
  force?: boolean;
  /** The pipeline whose nfhot.config to rewrite (default: the current directory when it is one). */
  pipeline?: string;
  profiles?: string[];
}

export interface ImageRollbackResult {
  image: string;
  /** rolledBack: the tag points at the original again; unchanged: it was not patched; refused: re-pointed since (see --force). */
  action: 'rolledBack' | 'unchanged' | 'refused';
  original?: string;
}

/**
 * Points each tag at its exact original image again, and removes what nfhot made for it: the
 * keeper tag of the original and the derivatives (unless something else still tags or runs them).
 */
export async function rollback(options: RollbackOptions, ctx: Context): Promise<{ images: ImageRollbackResult[]; include?: IncludeResult }> {
  if (options.all && options.images.length > 0) throw new UsageError('give images or --all, not both');
  if (!options.all && options.images.length === 0) throw new UsageError('no image to roll back', 'name images, or use --all for every patched image');
  const dir = pipelineDir(options.pipeline);
  if (dir) await checkIncludeWritable(dir);
  await ctx.engine.ping();
  await reap(ctx.engine);
  const images = await ctx.engine.listImages();
  const states = readState(images);
  const wanted = options.all ? states.map((s) => s.image) : [...new Set(options.images.map((i) => parseImageRef(i).familiar))];
  const results: ImageRollbackResult[] = [];
  const refused: UserError[] = [];
  for (const image of wanted) {
    const state = states.find((s) => s.image === image);
    const derivatives = images.filter((i) => fromLabels(i.labels)?.image === image);
    const removeLeftovers = async () => {
      await ctx.engine.untag(keeperRef(parseImageRef(image)));
      stopPoint('rollback:untag-keeper');
      // An untagged one was committed by a run killed before it could tag it.
      for (const tag of derivatives.flatMap((d) => (d.repoTags.length ? d.repoTags.filter(isNfhotRef) : [d.id]))) await ctx.engine.untag(tag);
    };
    if (!state) {
      // Not patched, but nfhot's images may be left from before (the tag was rebuilt, or put back
      // by hand): remove them. The lock is made from the tagged image: one made from a derivative
      // would keep that derivative in use.
      const current = images.find((i) => i.repoTags.includes(image));
      if (derivatives.length) await (current ? withLock(ctx.engine, image, current.id, removeLeftovers) : removeLeftovers());
      ctx.report.info(`${image} is not patched; nothing to roll back`);
      results.push({ image, action: 'unchanged' });
      continue;
    }
    if (state.state === 'moved' && !options.force) {
      refused.push(
        new UserError(
          `${image} was re-pointed since nfhot patched it (it is now ${state.currentId?.slice(7, 19) ?? 'untagged'}); rolling back would overwrite that image`,
          `to restore the original (${state.originalId.slice(7, 19)}) anyway: nfhot rollback ${image} --force`,
        ),
      );
      results.push({ image, action: 'refused' });
      continue;
    }
    await withLock(ctx.engine, image, state.originalId, async () => {
      await ctx.engine.tag(state.originalId, image);
      stopPoint('rollback:tag');
      await removeLeftovers();
    });
    ctx.report.info(`${image} → original ${state.originalId.slice(7, 19)}`);
    results.push({ image, action: 'rolledBack', original: state.originalId });
  }
  const include = dir ? await updateInclude(ctx, await scanPipeline(dir, options.profiles)) : undefined;
  for (const r of refused.slice(0, -1)) ctx.report.warn(r.message);
  if (refused.length) throw refused.at(-1)!;
  return { images: results, ...(include ? { include } : {}) };
}
