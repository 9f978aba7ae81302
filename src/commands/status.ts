import type { Context } from '../core/base/context.js';
import { reap } from '../core/image/lock.js';
import { repairIncludes, type KeptIncludeResult } from '../core/pipeline/kept.js';
import { readState, type ImageState } from '../core/image/state.js';

export interface StatusEntry extends ImageState {
  warning?: string;
}

/**
 * Every patched image, read from the daemon's labels alone. What a killed run left is cleaned up
 * on the way: its containers, and any include nfhot keeps that still names what it replaced.
 */
export async function status(ctx: Context): Promise<{ images: StatusEntry[]; includes?: KeptIncludeResult[] }> {
  await ctx.engine.ping();
  await reap(ctx.engine); // what a crashed run left: its state is read below, its containers go
  const states = readState(await ctx.engine.listImages());
  const repaired = await repairIncludes(ctx);
  const images = states.map(
    (s): StatusEntry =>
      s.state === 'moved'
        ? {
            ...s,
            warning: `${s.image} was re-pointed by something else since nfhot patched it (a docker build, pull or tag); \`nfhot rollback\` will refuse without --force, and the next \`nfhot patch\` takes the new image as the original`,
          }
        : s,
  );
  return { images, ...(repaired.length ? { includes: repaired } : {}) };
}
