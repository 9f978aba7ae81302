import type { Context } from '../context.js';
import { UsageError, UserError } from '../core/errors.js';
import { acquireLock, reap } from '../core/lock.js';
import { keeperRef, parseImageRef } from '../core/reference.js';
import { readState } from '../core/state.js';

export interface RollbackOptions {
  images: string[];
  all?: boolean;
  force?: boolean;
}

export interface ImageRollbackResult {
  image: string;
  /** rolledBack: the tag points at the original again; unchanged: it was not patched. */
  action: 'rolledBack' | 'unchanged';
  original?: string;
}

/** Points each tag at its exact original image again; nfhot's keeper tag goes, the derivatives stay (a later patch may reuse them). */
export async function rollback(options: RollbackOptions, ctx: Context): Promise<{ images: ImageRollbackResult[] }> {
  if (options.all && options.images.length > 0) throw new UsageError('give images or --all, not both');
  if (!options.all && options.images.length === 0) throw new UsageError('no image to roll back', 'name images, or use --all for every patched image');
  await ctx.engine.ping();
  await reap(ctx.engine);
  const states = readState(await ctx.engine.listImages());
  const wanted = options.all ? states.map((s) => s.image) : [...new Set(options.images.map((i) => parseImageRef(i).familiar))];
  const results: ImageRollbackResult[] = [];
  for (const image of wanted) {
    const state = states.find((s) => s.image === image);
    if (!state) {
      ctx.report.info(`${image} is not patched; nothing to roll back`);
      results.push({ image, action: 'unchanged' });
      continue;
    }
    if (state.state === 'moved' && !options.force) {
      throw new UserError(
        `${image} was re-pointed since nfhot patched it (it is now ${state.currentId?.slice(7, 19) ?? 'untagged'}); rolling back would overwrite that image`,
        `to restore the original (${state.originalId.slice(7, 19)}) anyway: nfhot rollback ${image} --force`,
      );
    }
    const lock = await acquireLock(ctx.engine, image, state.originalId);
    try {
      await ctx.engine.tag(state.originalId, image);
      await ctx.engine.untag(keeperRef(parseImageRef(image)));
    } finally {
      await lock.release();
    }
    ctx.report.info(`${image} → original ${state.originalId.slice(7, 19)}`);
    results.push({ image, action: 'rolledBack', original: state.originalId });
  }
  return { images: results };
}
