import type { ImageInfo } from '../ports/engine.js';
import type { DirectUrl, Interpreter } from '../python.js';
import { fromLabels, normalizeName, type PatchRecord } from '../record.js';
import { derivativeRef, hashHex, type ImageRef } from '../reference.js';
import type { ResolvedSource } from '../source.js';

/** An image to patch, as found: what its tag points at now, and the original under it. */
export interface Target {
  ref: ImageRef;
  current: ImageInfo;
  original: ImageInfo;
  /** The image nfhot's active reference names, when there is one. */
  activeId?: string;
  /** Patches active now: empty when the image is not patched. */
  active: PatchRecord[];
}

/** What a patch will do to one image, worked out before anything changes. */
export interface PatchPlan {
  image: string;
  currentId: string;
  originalId: string;
  /** Immutable reference of the resulting (original, patch set). */
  derivative: string;
  python: string;
  pythonVersion: string;
  pythonReason: string;
  externallyManaged: boolean;
  noDeps: boolean;
  /** The active patch this one replaces (same package). */
  replaces?: PatchRecord;
  /** Active patches of other packages, installed again on top of the original with this one. */
  keeps: PatchRecord[];
}

/**
 * The original is the image under nfhot's labels, or the tagged image itself when it is not a
 * derivative. The patches active are the tagged derivative's, or (--keep-tag: the tag still on
 * the original) those of the derivative nfhot's active reference names.
 *
 * A derivative is one only while its labels name this reference and its immutable reference
 * (whose image ID is `derivativeId`) still names it: an image built FROM a derivative inherits
 * its labels, but is a new original.
 */
export function lineage(image: string, current: ImageInfo, active?: ImageInfo, derivativeId?: string): { originalId: string; active: PatchRecord[] } {
  const record = fromLabels(current.labels);
  if (record && record.image === image && derivativeId === current.id) return { originalId: record.original, active: record.patches };
  const kept = active && fromLabels(active.labels);
  return { originalId: current.id, active: kept && kept.original === current.id && kept.image === image ? kept.patches : [] };
}

interface Identity {
  kind: 'git' | 'dir';
  commit?: string;
  tree: string;
  subdirectory?: string;
  noDeps: boolean;
  python: string;
}

/** What makes two patches the same install: a git commit (and subdirectory), or a snapshot's tree. */
function identity(p: Identity): string {
  const what = p.kind === 'git' ? `git:${p.commit}:${p.subdirectory ?? ''}` : `dir:${p.tree}`;
  return `${what}|deps=${!p.noDeps}|python=${p.python}`;
}

function sameSource(record: PatchRecord, source: ResolvedSource): boolean {
  return source.kind === 'dir' ? record.path === source.path : record.url === source.displayUrl && (record.subdirectory ?? '') === (source.subdirectory ?? '');
}

export function planPatch(target: Target, source: ResolvedSource, interpreter: Interpreter, noDeps: boolean): PatchPlan {
  const python = interpreter.env.executable || interpreter.env.path;
  // A package is patched once: a new source for it replaces the old. When the name cannot be
  // read statically, the same repository or directory is taken to be the same package.
  const replaces = target.active.find((p) => (source.package ? p.package === source.package : sameSource(p, source)));
  const keeps = target.active.filter((p) => p !== replaces);
  const identities = [
    identity({ kind: source.kind, commit: source.commit, tree: source.tree.tree, subdirectory: source.subdirectory, noDeps, python }),
    ...keeps.map(identity),
  ].sort();
  const key = hashHex(target.original.id, target.ref.familiar, ...identities);
  return {
    image: target.ref.familiar,
    currentId: target.current.id,
    originalId: target.original.id,
    derivative: derivativeRef(target.ref, key),
    python,
    pythonVersion: interpreter.env.version,
    pythonReason: interpreter.reason,
    externallyManaged: interpreter.env.externallyManaged,
    noDeps,
    ...(replaces ? { replaces } : {}),
    keeps,
  };
}

/** The PEP 610 record written into the installed distribution: the real provenance, no credentials. */
export function directUrlOf(p: { kind: 'git' | 'dir'; url?: string; displayUrl?: string; path?: string; commit?: string; ref?: string; subdirectory?: string }): DirectUrl {
  if (p.kind === 'dir') return { url: `file://${p.path}`, dir_info: {} };
  return {
    url: p.displayUrl ?? p.url ?? '',
    vcs_info: { vcs: 'git', ...(p.commit ? { commit_id: p.commit } : {}), ...(p.ref ? { requested_revision: p.ref } : {}) },
    ...(p.subdirectory ? { subdirectory: p.subdirectory } : {}),
  };
}

/** The record of a new patch once pip has said what it installed. */
export function recordOf(source: ResolvedSource, installed: { name: string; version: string }, plan: PatchPlan, at: string): PatchRecord {
  return {
    package: normalizeName(installed.name),
    version: installed.version,
    source: source.display,
    kind: source.kind,
    ...(source.displayUrl ? { url: source.displayUrl } : {}),
    ...(source.path ? { path: source.path } : {}),
    ...(source.ref ? { ref: source.ref } : {}),
    ...(source.commit ? { commit: source.commit } : {}),
    tree: source.tree.tree,
    ...(source.kind === 'dir' ? { dirty: source.dirty ?? false } : {}),
    ...(source.subdirectory ? { subdirectory: source.subdirectory } : {}),
    noDeps: plan.noDeps,
    python: plan.python,
    at,
  };
}
