import type { Context } from '../core/context.js';
import { diffImages, type FileChanges, type PackageChange } from '../core/diff.js';
import { patchedState } from '../core/state.js';

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
  const state = await patchedState(ctx.engine, image);
  const { packages, files } = await ctx.report.step(`reading the Python distributions of ${state.image} and of its original`, () => diffImages(ctx.engine, state.originalId, state.derivative!, state.patches));
  return { image: state.image, original: state.originalId, derivative: state.derivative!, packages, files };
}
