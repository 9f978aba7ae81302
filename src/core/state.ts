import type { ImageSummary } from '../docker/engine.js';
import { fromLabels, type PatchRecord } from './record.js';
import { keeperRef, parseImageRef } from './reference.js';

/** What nfhot knows of one image reference it has patched, read from the daemon alone. */
export interface ImageState {
  image: string;
  /** patched: the tag points at nfhot's derivative; moved: something else re-pointed the tag since. */
  state: 'patched' | 'moved';
  originalId: string;
  /** What the tag points at now; undefined when the tag was removed. */
  currentId?: string;
  derivative?: string;
  patches: PatchRecord[];
}

/**
 * Every image reference under nfhot's care: one whose original is kept under nfhot's tag.
 * A reference is found through the labels of the derivatives made for it.
 */
export function readState(images: ImageSummary[]): ImageState[] {
  const byTag = new Map<string, ImageSummary>();
  for (const image of images) for (const tag of image.repoTags) byTag.set(tag, image);
  const refs = new Set<string>();
  for (const image of images) {
    const record = fromLabels(image.labels);
    if (record) refs.add(record.image);
  }
  const states: ImageState[] = [];
  for (const image of [...refs].sort()) {
    let keeper: ImageSummary | undefined;
    try {
      keeper = byTag.get(keeperRef(parseImageRef(image)));
    } catch {
      continue; // a label naming no valid reference is not ours to act on
    }
    if (!keeper) continue; // rolled back, or never finished a patch
    const current = byTag.get(image);
    if (current?.id === keeper.id) continue;
    const record = current && fromLabels(current.labels);
    if (record && record.original === keeper.id && record.image === image) {
      states.push({ image, state: 'patched', originalId: keeper.id, currentId: current.id, derivative: record.derivative, patches: record.patches });
    } else {
      states.push({ image, state: 'moved', originalId: keeper.id, ...(current ? { currentId: current.id } : {}), patches: [] });
    }
  }
  return states;
}
