import type { ImageInfo } from '../ports/engine.js';
import type { DirectUrl, Interpreter } from '../interpreter/python.js';
import { fromLabels, normalizeName, type PatchRecord } from '../image/record.js';
import { derivativeRef, hashHex, type ImageRef } from '../image/reference.js';
import type { ResolvedSource } from '../source/source.js';
import type { SyncPlan } from './sync.js';
import { NO_PIP_SETTINGS, type PipSettings } from '../interpreter/pip-settings.js';

export interface PipWheel {
  path: string;
  fromHost: boolean;
}

/** An image to patch, as found: what its tag points at now, and the original under it. */
export interface Target {
  ref: ImageRef;
  current: ImageInfo;
  original: ImageInfo;
  /** The image nfhot's active reference (--keep-tag) names, when there is one. */
  activeImageId?: string;
  /** The patches active now: empty when the image is not patched. */
  activePatches: PatchRecord[];
}

/** What a patch will do to one image, worked out before anything changes. */
export interface PatchPlan {
  image: string;
  target: Target;
  currentId: string;
  originalId: string;
  /** Immutable reference of the resulting (original, patch set). */
  derivative: string;
  /** unchanged: the tag (or, with keepTag, the active reference) already names the derivative; reuse: the derivative exists, only tags move; build: pip runs; sync: changed files are written over the full install. */
  action: 'unchanged' | 'reuse' | 'build' | 'sync';
  /** What a sync writes, and onto which full install. */
  sync?: SyncPlan;
  /** The derivative as the daemon has it (unchanged, reuse). */
  existing?: { id: string; patches: PatchRecord[] };
  python: string;
  pythonVersion: string;
  pythonReason: string;
  externallyManaged: boolean;
  /** The image has an empty /tmp: the work container's files go there, in memory. */
  tmp: boolean;
  /** The environment has no pip: this wheel runs as its pip (a path in the image, or on this machine). */
  pipWheel?: PipWheel;
  /** Every Python of the image (the one installed into among them): another may have a backend it lacks. */
  pythons: string[];
  /** The user's package index settings, handed to pip in the work container. */
  pip: PipSettings;
  noDeps: boolean;
  keepTag: boolean;
  /** Fail the install when a module it installed does not compile (watch: a half-written save). */
  checkSyntax: boolean;
  /** The active patch this one replaces (same package). */
  replaces?: PatchRecord;
  /** Active patches of other packages, installed again on top of the original with this one. */
  keeps: PatchRecord[];
}

/**
 * The original is the image under nfhot's labels, or the tagged image itself when it is not a
 * derivative. The patches active are the tagged derivative's, or (--keep-tag: the tag still on
 * the original) those of the derivative nfhot's active reference names (`activeImage`).
 *
 * A derivative is one only while its labels name this reference and its immutable reference
 * (whose image ID is `derivativeId`) still names it: an image built FROM a derivative inherits
 * its labels, but is a new original.
 */
export function lineage(
  image: string,
  current: ImageInfo,
  activeImage?: ImageInfo,
  derivativeId?: string,
): { originalId: string; activePatches: PatchRecord[] } {
  const record = fromLabels(current.labels);
  if (record && record.image === image && derivativeId === current.id)
    return { originalId: record.original, activePatches: record.patches };
  const kept = activeImage && fromLabels(activeImage.labels);
  return {
    originalId: current.id,
    activePatches: kept && kept.original === current.id && kept.image === image ? kept.patches : [],
  };
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
  return source.kind === 'dir'
    ? record.path === source.path
    : record.url === source.displayUrl && (record.subdirectory ?? '') === (source.subdirectory ?? '');
}

/** The patch set the new source makes with the active patches: the one it replaces, those it keeps, and its immutable reference. */
function patchSet(target: Target, source: ResolvedSource, interpreter: Interpreter, noDeps: boolean) {
  const python = interpreter.env.executable || interpreter.env.path;
  // A package is patched once: a new source for it replaces the old. When the name cannot be
  // read statically, the same repository or directory is taken to be the same package.
  const replaces = target.activePatches.find((p) =>
    source.package ? p.package === source.package : sameSource(p, source),
  );
  const keeps = target.activePatches.filter((p) => p !== replaces);
  const identities = [
    identity({
      kind: source.kind,
      commit: source.commit,
      tree: source.tree.tree,
      subdirectory: source.subdirectory,
      noDeps,
      python,
    }),
    ...keeps.map(identity),
  ].sort();
  const key = hashHex(target.original.id, target.ref.familiar, ...identities);
  return { python, replaces, keeps, derivative: derivativeRef(target.ref, key) };
}

/** The immutable reference the patch will have: to ask the daemon whether it exists before planning. */
export function derivativeOf(
  target: Target,
  source: ResolvedSource,
  interpreter: Interpreter,
  noDeps: boolean,
): string {
  return patchSet(target, source, interpreter, noDeps).derivative;
}

/**
 * The plan for one image, from plain facts: the image as found, the source, the interpreter,
 * and the derivative of this exact patch set when the daemon has it (`existing`).
 */
export function planPatch(
  target: Target,
  source: ResolvedSource,
  interpreter: Interpreter,
  options: {
    noDeps: boolean;
    keepTag: boolean;
    checkSyntax?: boolean;
    pipWheel?: PipWheel;
    pythons?: string[];
    pip?: PipSettings;
  },
  existing?: ImageInfo,
): PatchPlan {
  const { python, replaces, keeps, derivative } = patchSet(target, source, interpreter, options.noDeps);
  const record = existing && fromLabels(existing.labels);
  const reusable =
    existing && record?.original === target.original.id ? { id: existing.id, patches: record.patches } : undefined;
  // Already in place: the tag (or, with keepTag, nfhot's active reference) names this derivative.
  const inPlace = options.keepTag
    ? target.activeImageId === reusable?.id && target.current.id === target.original.id
    : target.current.id === reusable?.id && target.activeImageId === undefined;
  return {
    image: target.ref.familiar,
    target,
    currentId: target.current.id,
    originalId: target.original.id,
    derivative,
    action: !reusable ? 'build' : inPlace ? 'unchanged' : 'reuse',
    ...(reusable ? { existing: reusable } : {}),
    python,
    pythonVersion: interpreter.env.version,
    pythonReason: interpreter.reason,
    externallyManaged: interpreter.env.externallyManaged,
    tmp: interpreter.env.tmp ?? false,
    ...(options.pipWheel ? { pipWheel: options.pipWheel } : {}),
    pythons: options.pythons ?? [python],
    pip: options.pip ?? NO_PIP_SETTINGS,
    noDeps: options.noDeps,
    keepTag: options.keepTag,
    checkSyntax: options.checkSyntax ?? false,
    ...(replaces ? { replaces } : {}),
    keeps,
  };
}

/** The PEP 610 record written into the installed distribution: the real provenance, no credentials. */
export function directUrlOf(p: {
  kind: 'git' | 'dir';
  url?: string;
  displayUrl?: string;
  path?: string;
  commit?: string;
  ref?: string;
  subdirectory?: string;
}): DirectUrl {
  if (p.kind === 'dir') return { url: `file://${p.path}`, dir_info: {} };
  return {
    url: p.displayUrl ?? p.url ?? '',
    vcs_info: {
      vcs: 'git',
      ...(p.commit ? { commit_id: p.commit } : {}),
      ...(p.ref ? { requested_revision: p.ref } : {}),
    },
    ...(p.subdirectory ? { subdirectory: p.subdirectory } : {}),
  };
}

/** The record of a new patch once pip has said what it installed. */
export function recordOf(
  source: ResolvedSource,
  installed: { name: string; version: string },
  plan: PatchPlan,
  at: string,
): PatchRecord {
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
    ...(source.vcs?.described && source.vcs.tool.tool !== 'other' ? { vcs: source.vcs.tool.tool } : {}),
    ...(plan.externallyManaged ? { externallyManaged: true } : {}),
    ...(plan.pipWheel ? { pipWheel: plan.pipWheel.fromHost ? 'host' : plan.pipWheel.path } : {}),
    at,
  };
}
