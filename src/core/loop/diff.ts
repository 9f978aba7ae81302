import { inventoryPy } from '../base/assets.js';
import { UserError } from '../base/errors.js';
import { holderLabels, throwawayName } from '../image/lock.js';
import type { Engine } from '../ports/engine.js';
import { installedFrom, normalizeName, type PatchRecord } from '../image/record.js';

/** One distribution as an image's Python sees it (inventory.py's `list`). */
export interface Distribution {
  name: string;
  version: string;
  metadata: string | null;
  record: string;
  direct_url: { url?: string; vcs_info?: { commit_id?: string }; dir_info?: { editable?: boolean } } | null;
}

/** Each file of a distribution → sha256 of its content (or `link:TARGET`); null when the image has no such distribution. */
export type FileHashes = Record<string, Record<string, string | null> | null>;

export interface PackageChange {
  name: string;
  before?: string;
  after?: string;
  /** What nfhot installed it from, for a patched package; else it changed as a requirement of one. */
  source?: string;
  from?: string;
  /** In the original it was an editable install (its code lived outside site-packages). */
  editableBefore?: boolean;
}

export interface FileChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

const same = (a: Distribution | undefined, b: Distribution | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.version === b.version &&
  a.record === b.record &&
  a.metadata === b.metadata &&
  JSON.stringify(a.direct_url) === JSON.stringify(b.direct_url);

/** The distributions that differ between the two images, the patched ones always among them. */
export function changedPackages(
  before: Distribution[],
  after: Distribution[],
  patches: PatchRecord[],
): PackageChange[] {
  const b = new Map(before.map((d) => [d.name, d]));
  const a = new Map(after.map((d) => [d.name, d]));
  const patched = new Map(patches.map((p) => [normalizeName(p.package), p]));
  const names = [...new Set([...b.keys(), ...a.keys()])].filter((n) => patched.has(n) || !same(b.get(n), a.get(n)));
  return names
    .map((name): PackageChange => {
      const p = patched.get(name);
      const was = b.get(name);
      return {
        name,
        ...(was ? { before: was.version } : {}),
        ...(a.get(name) ? { after: a.get(name)!.version } : {}),
        ...(p ? { source: p.source, from: installedFrom(p) } : {}),
        ...(was?.direct_url?.dir_info?.editable ? { editableBefore: true } : {}),
      };
    })
    .sort((x, y) => Number(Boolean(y.source)) - Number(Boolean(x.source)) || x.name.localeCompare(y.name));
}

/** The module a bytecode file was compiled from: `d/__pycache__/m.cpython-311.pyc` → `d/m.py`. */
function moduleOf(path: string): string | undefined {
  const m = /^(.*)\/__pycache__\/([^/.]+)\.[^/]*\.pyc$/.exec(path);
  return m ? `${m[1]}/${m[2]}.py` : undefined;
}

/**
 * Files added, changed (content or link target) and removed, by absolute path inside the image.
 * Bytecode of a module whose source is the same in both is left out: it differs only by the
 * timestamp in its header, or by being compiled on one side only.
 */
export function changedFiles(before: FileHashes, after: FileHashes): FileChanges {
  const b = new Map<string, string | null>();
  const a = new Map<string, string | null>();
  for (const files of Object.values(before)) for (const [path, hash] of Object.entries(files ?? {})) b.set(path, hash);
  for (const files of Object.values(after)) for (const [path, hash] of Object.entries(files ?? {})) a.set(path, hash);
  const substance = (p: string) => {
    const source = moduleOf(p);
    return !source || !(b.has(source) && a.has(source) && b.get(source) === a.get(source));
  };
  const added = [...a.keys()].filter((p) => !b.has(p) && substance(p));
  const removed = [...b.keys()].filter((p) => !a.has(p) && substance(p));
  const changed = [...a.keys()].filter((p) => b.has(p) && b.get(p) !== a.get(p) && substance(p));
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

async function inventory<T>(engine: Engine, image: string, python: string, args: string[]): Promise<T> {
  const result = await engine.run(image, [python, '-c', inventoryPy(), ...args], {
    name: throwawayName('diff'),
    labels: holderLabels(),
    user: '0',
  });
  if (result.exitCode !== 0) {
    throw new UserError(
      `cannot list the Python distributions of ${image} with ${python}: exit code ${result.exitCode}`,
      result.exitCode === 3 ? 'nfhot diff needs Python 3.8 or later in the image' : undefined,
      result.stderr,
    );
  }
  return JSON.parse(result.stdout) as T;
}

/**
 * What the patch changed, read from both images with the patch's own interpreter: every
 * distribution that differs (the patched packages, and what pip installed or removed for them),
 * and each of their files by content. One container per image; one more each when pip changed
 * other packages too.
 */
export async function diffImages(
  engine: Engine,
  original: string,
  derivative: string,
  patches: PatchRecord[],
): Promise<{ packages: PackageChange[]; files: FileChanges }> {
  const pythons = [...new Set(patches.map((p) => p.python))];
  const packages: PackageChange[] = [];
  const files: FileChanges = { added: [], changed: [], removed: [] };
  for (const python of pythons) {
    const mine = patches.filter((p) => p.python === python);
    const names = mine.map((p) => normalizeName(p.package));
    const run = <T>(args: string[]) =>
      Promise.all([original, derivative].map((image) => inventory<T>(engine, image, python, args)));
    const [before, after] = await run<{ dists: Distribution[]; files: FileHashes }>(['list', ...names]);
    const changes = changedPackages(before!.dists, after!.dists, mine);
    const others = changes.map((c) => c.name).filter((n) => !names.includes(n));
    const [was, is] = others.length
      ? await run<{ files: FileHashes }>(['files', ...others])
      : [{ files: {} }, { files: {} }];
    const f = changedFiles({ ...before!.files, ...was!.files }, { ...after!.files, ...is!.files });
    packages.push(...changes.filter((c) => !packages.some((p) => p.name === c.name)));
    for (const k of ['added', 'changed', 'removed'] as const) files[k] = [...new Set([...files[k], ...f[k]])].sort();
  }
  return { packages, files };
}
