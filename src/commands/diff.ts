import type { Context } from '../core/base/context.js';
import { diffImages, type FileChanges, type PackageChange } from '../core/loop/diff.js';
import { patchSetOf } from '../core/image/state.js';

export interface DiffResult {
  image: string;
  original: string;
  derivative: string;
  packages: PackageChange[];
  files: FileChanges;
}

/** What the patch of an image changed against its original: packages (version before → after, source) and files, read from both images. */
export async function diff(image: string, ctx: Context): Promise<DiffResult> {
  await ctx.engine.ping();
  const set = await patchSetOf(ctx.engine, image);
  const { packages, files } = await ctx.report.step(
    `reading the Python distributions of ${set.derivative} and of its original`,
    () => diffImages(ctx.engine, set.originalId, set.derivative, set.patches),
  );
  return { image: set.image, original: set.originalId, derivative: set.derivative, packages, files };
}
