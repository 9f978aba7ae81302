import { UserError } from '../base/errors.js';
import type { Engine, ImageSummary } from '../ports/engine.js';
import { fromLabels, type PatchRecord } from './record.js';
import {
  activeRef,
  isNfhotRef,
  keeperRef,
  nfhotRepository,
  parseImageRef,
  readImageRef,
  type ImageRef,
} from './reference.js';

/** What nfhot knows of one image reference it has patched, read from the daemon alone. */
export interface ImageState {
  image: string;
  /** patched: the tag (or, with --keep-tag, nfhot's active reference) points at the derivative; moved: something else re-pointed the tag since. (Put back on the original by hand: not listed.) */
  state: 'patched' | 'moved';
  /** tag: the image's own tag points at the derivative; keep-tag: it still points at the original. */
  mode?: 'tag' | 'keep-tag';
  originalId: string;
  /** What the tag points at now; undefined when the tag was removed. */
  currentId?: string;
  derivative?: string;
  /** Where the derivative was pushed, pinned by digest: `registry/repo@sha256:…`. */
  pushed?: string[];
  patches: PatchRecord[];
}

/**
 * The registry copies of an image, pinned by digest alone: `registry/repo@sha256:…` is what
 * Docker, Podman and every Nextflow executor accept (AWS Batch's name check refuses tag and
 * digest together).
 */
function pushedOf(image: ImageSummary, own: ImageRef): string[] {
  return (image.repoDigests ?? []).filter((d) => d.slice(0, d.indexOf('@')) !== own.name); // own: where the original came from
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
    const ref = readImageRef(image);
    if (!ref) continue; // a label naming no valid reference is not ours to act on
    const keeper = byTag.get(keeperRef(ref));
    if (!keeper) continue; // rolled back, or never finished a patch
    const current = byTag.get(image);
    const ours = (i: ImageSummary | undefined) => {
      const r = i && fromLabels(i.labels);
      // Built FROM a derivative, an image inherits its labels: ours only while its reference names it.
      return r && r.original === keeper.id && r.image === image && byTag.get(r.derivative)?.id === i.id ? r : undefined;
    };
    // The tag names the derivative; or, with --keep-tag, the tag stays on the original and nfhot's
    // active reference names the derivative.
    const active = byTag.get(activeRef(ref));
    const tagged = ours(current);
    const kept = current?.id === keeper.id ? ours(active) : undefined;
    const record = tagged ?? kept;
    if (record) {
      const pushed = pushedOf((tagged ? current : active)!, ref);
      states.push({
        image,
        state: 'patched',
        mode: tagged ? 'tag' : 'keep-tag',
        originalId: keeper.id,
        currentId: current!.id,
        derivative: record.derivative,
        ...(pushed.length ? { pushed } : {}),
        patches: record.patches,
      });
    } else if (current?.id !== keeper.id)
      states.push({
        image,
        state: 'moved',
        originalId: keeper.id,
        ...(current ? { currentId: current.id } : {}),
        patches: [],
      });
  }
  return states;
}

/** What nfhot knows of one image: one call to the daemon for its tag and nfhot's references to it. */
export async function stateOf(engine: Engine, image: string): Promise<ImageState | undefined> {
  const ref = parseImageRef(image);
  const images = await engine.listImages([ref.familiar, nfhotRepository(ref)]);
  return readState(images).find((s) => s.image === ref.familiar);
}

/**
 * The image a name stands for: one of nfhot's references (a task run with the include, say)
 * stands for the image it patched — a derivative by its labels, nfhot's keeper of an original by
 * the derivatives made from that original for it.
 */
export async function imageBehind(engine: Engine, name: string): Promise<string> {
  if (!isNfhotRef(name) && !name.includes('@')) return name;
  const info = await engine.inspectImage(name);
  const own = fromLabels(info?.labels)?.image;
  if (own || !info || !isNfhotRef(name)) return own ?? name;
  const kept = readImageRef(name)?.familiar;
  for (const image of await engine.listImages()) {
    const record = fromLabels(image.labels);
    const ref = record?.original === info.id ? readImageRef(record.image) : undefined;
    if (ref && keeperRef(ref) === kept) return record!.image;
  }
  return name;
}

/** A patch set, as diff and export read it: the image it patches, its original, the derivative and its patches. */
export type PatchSet = Pick<ImageState, 'image' | 'originalId' | 'patches'> & { derivative: string };

/**
 * The patch set a name stands for: an image's active one (named by its tag, or by nfhot's keeper
 * or active reference), or the one a derivative's own reference names, active or not. A
 * UserError when the image is not patched.
 */
export async function patchSetOf(engine: Engine, name: string): Promise<PatchSet> {
  const image = await imageBehind(engine, name);
  if (image !== name) {
    const record = fromLabels((await engine.inspectImage(name))?.labels);
    if (record && record.derivative === readImageRef(name)?.familiar)
      return {
        image: record.image,
        originalId: record.original,
        derivative: record.derivative,
        patches: record.patches,
      };
  }
  const state = await stateOf(engine, image);
  if (state?.state !== 'patched' || !state.derivative) {
    throw new UserError(
      state?.state === 'moved'
        ? `${image} was re-pointed since nfhot patched it: its tag no longer names the patch`
        : `${image} is not patched`,
      'nfhot status lists the patched images',
    );
  }
  return { image: state.image, originalId: state.originalId, derivative: state.derivative, patches: state.patches };
}
