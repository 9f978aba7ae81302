import type { Context } from '../context.js';
import { fromLabels } from '../core/record.js';
import { parseImageRef } from '../core/reference.js';

/** The reference a runner should use: the immutable derivative when the image is patched, else the image itself. */
export async function resolve(image: string, ctx: Context): Promise<string> {
  if (image.includes('@')) return image; // a digest already names exact content
  const ref = parseImageRef(image);
  const info = await ctx.engine.inspectImage(ref.familiar);
  const record = info && fromLabels(info.labels);
  return record && record.image === ref.familiar ? record.derivative : image;
}
