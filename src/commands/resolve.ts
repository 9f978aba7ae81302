import type { Context } from '../core/base/context.js';
import { stateOf } from '../core/image/state.js';

/**
 * The reference a runner should use: the immutable derivative when the image is patched (its
 * tag moved, or --keep-tag), else the image itself. One call to the daemon.
 */
export async function resolve(image: string, ctx: Context): Promise<string> {
  if (image.includes('@')) return image; // a digest already names exact content
  const state = await stateOf(ctx.engine, image);
  return state?.state === 'patched' && state.derivative ? state.derivative : image;
}
