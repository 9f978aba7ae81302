import type { Context } from '../core/context.js';
import { nfhotRepository, parseImageRef } from '../core/reference.js';
import { readState } from '../core/state.js';

/**
 * The reference a runner should use: the immutable derivative when the image is patched (its
 * tag moved, or --keep-tag), else the image itself. One call to the daemon.
 */
export async function resolve(image: string, ctx: Context): Promise<string> {
  if (image.includes('@')) return image; // a digest already names exact content
  const ref = parseImageRef(image);
  // The tag, and nfhot's references for its repository (a name without a tag matches every tag).
  const images = await ctx.engine.listImages([ref.familiar, nfhotRepository(ref)]);
  const state = readState(images).find((s) => s.image === ref.familiar);
  return state?.state === 'patched' && state.derivative ? state.derivative : image;
}
