/**
 * The daemon is the record: a derivative image's labels say what it is, so any
 * machine or fresh home directory reads the same truth back.
 */
export const LABEL = {
  image: 'io.nfhot.image',
  original: 'io.nfhot.original',
  derivative: 'io.nfhot.derivative',
  patches: 'io.nfhot.patches',
  schema: 'io.nfhot.schema',
} as const;

const SCHEMA = '1';

/** One active patch, as recorded on the image. Never holds a credential. */
export interface PatchRecord {
  /** Normalised distribution name (PEP 503). */
  package: string;
  version: string;
  /** How the user named the source, without credentials. */
  source: string;
  kind: 'git' | 'dir';
  /** Repository URL without credentials (git sources). */
  url?: string;
  /** Host directory (dir sources). */
  path?: string;
  /** Branch, tag or commit as given (git), or the checkout's branch (dir). */
  ref?: string;
  commit?: string;
  /** Git tree of exactly what was installed: the identity of a working-tree snapshot. */
  tree: string;
  /** A dir source with changes not in its HEAD commit. */
  dirty?: boolean;
  subdirectory?: string;
  noDeps: boolean;
  python: string;
  /** The version came from git (this tool computes it from git's facts): installed again, it is handed to the build as it is. */
  vcs?: string;
  /** The environment is EXTERNALLY-MANAGED (PEP 668): pip was told to install all the same. */
  externallyManaged?: boolean;
  /** The environment has no pip: pip ran from this wheel in the image, or (`host`) from one nfhot brought. */
  pipWheel?: string;
  /** ISO time the patch was made. */
  at: string;
}

export interface DerivativeRecord {
  image: string;
  original: string;
  derivative: string;
  patches: PatchRecord[];
}

export function toLabels(record: DerivativeRecord): Record<string, string> {
  return {
    [LABEL.schema]: SCHEMA,
    [LABEL.image]: record.image,
    [LABEL.original]: record.original,
    [LABEL.derivative]: record.derivative,
    [LABEL.patches]: JSON.stringify(record.patches),
  };
}

/** Reads nfhot's labels; undefined when the image is not nfhot's or its labels are not ours to trust. */
export function fromLabels(labels: Record<string, string> | null | undefined): DerivativeRecord | undefined {
  if (!labels || labels[LABEL.schema] !== SCHEMA) return undefined;
  const image = labels[LABEL.image];
  const original = labels[LABEL.original];
  const derivative = labels[LABEL.derivative];
  if (!image || !derivative || !original || !/^sha256:[0-9a-f]{64}$/.test(original)) return undefined;
  let patches: unknown;
  try {
    patches = JSON.parse(labels[LABEL.patches] ?? '');
  } catch {
    return undefined;
  }
  if (!Array.isArray(patches) || !patches.every(isPatchRecord)) return undefined;
  return { image, original, derivative, patches };
}

function isPatchRecord(p: unknown): p is PatchRecord {
  if (typeof p !== 'object' || p === null) return false;
  const r = p as Record<string, unknown>;
  return (
    typeof r.package === 'string' &&
    typeof r.version === 'string' &&
    typeof r.source === 'string' &&
    (r.kind === 'git' || r.kind === 'dir') &&
    typeof r.tree === 'string' &&
    typeof r.python === 'string' &&
    typeof r.noDeps === 'boolean'
  );
}

/** Which exact source a patch installed: its commit (and whether the tree had uncommitted changes), else its tree. */
export function installedFrom(p: PatchRecord): string {
  return p.commit
    ? `commit ${p.commit.slice(0, 12)}${p.dirty ? ' + uncommitted changes' : ''}`
    : `tree ${p.tree.slice(0, 12)}`;
}

/** PEP 503 normalisation: the key under which a package is patched. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
