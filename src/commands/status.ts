import type { Context } from '../core/context.js';
import { reap } from '../core/lock.js';
import { readState, type ImageState } from '../core/state.js';

export interface StatusEntry extends ImageState {
  warning?: string;
}

/** Every patched image, read from the daemon's labels alone. */
export async function status(ctx: Context): Promise<{ images: StatusEntry[] }> {
  await ctx.engine.ping();
  await reap(ctx.engine); // what a crashed run left: its state is read below, its containers go
  const images = readState(await ctx.engine.listImages()).map((s): StatusEntry =>
    s.state === 'moved'
      ? { ...s, warning: `${s.image} was re-pointed by something else since nfhot patched it (a docker build, pull or tag); \`nfhot rollback\` will refuse without --force, and the next \`nfhot patch\` takes the new image as the original` }
      : s,
  );
  return { images };
}
