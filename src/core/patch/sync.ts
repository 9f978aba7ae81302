// Incremental patches: when only files the install copies as they are have changed since a full
// install of a working copy, their new content is written as one layer on that install, without
// a container or pip. The install learns, during the full install, where each source file went.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../base/context.js';
import { cacheDir } from '../base/dirs.js';
import type { ImageInfo, LayerEntry } from '../ports/engine.js';
import type { FileChange } from '../ports/git.js';
import type { PatchRecord } from '../image/record.js';
import type { ResolvedSource } from '../source/source.js';
import { writeFileAtomic } from '../base/util.js';

/** mode (permission bits), uid, gid, mtime (seconds), as the install left them. */
export type Stat = [number, number, number, number];

/** One place the install copied a source file to, and the bytecode compiled from it there. */
export interface Installed {
  dest: string;
  /** Its path as the distribution's RECORD names it. */
  entry: string;
  stat: Stat;
  /** The build reads it (a version, a path named in its configuration): a change needs the build. */
  meta: boolean;
  pyc: { entry: string; dest: string }[];
}

/** What the install learned of a full install: where each source file went (by path in the source tree), the RECORD, the directories above. */
export interface Learned {
  record: { dest: string; entry: string; stat: Stat; text: string };
  files: Record<string, Installed[]>;
  dirs: Record<string, Stat>;
}

/** A full install: its layout and the tree it installed (and, for a version from git, what git said of it). */
interface FullInstall {
  tree: string;
  learned: Learned;
  version?: string;
}

/**
 * What a version from git depends on: the tag, distance, commit and dirtiness, and for a dirty
 * tree the day (the version's `.dYYYYMMDD`). A sync keeps the installed version, so it needs the same.
 */
export function versionKey(source: ResolvedSource, now = new Date()): string | undefined {
  const d = source.vcs?.described;
  return d && JSON.stringify([d.tag, d.distance, d.commit, d.dirty, d.dirty ? now.toISOString().slice(0, 10) : '']);
}

/** The full install an image is made on, the files that changed since, and where they go. */
export interface SyncPlan {
  base: ImageInfo;
  files: { path: string; installed: Installed[] }[];
  learned: Learned;
}

/** Per image ID: a full install's layout, or (a synced image) the full install it was made on. Safe to lose: the next patch is a full install. */
const cacheFile = (imageId: string) => join(cacheDir(), 'sync', `${imageId.replace(/^sha256:/, '')}.json`);

async function remember(imageId: string, entry: FullInstall | { base: string }): Promise<void> {
  await mkdir(join(cacheDir(), 'sync'), { recursive: true });
  await writeFileAtomic(cacheFile(imageId), JSON.stringify(entry));
}

export const rememberInstall = (imageId: string, install: FullInstall) => remember(imageId, install);
export const rememberSync = (imageId: string, base: string) => remember(imageId, { base });

async function recall(imageId: string): Promise<(FullInstall & { id: string }) | undefined> {
  try {
    const entry = JSON.parse(await readFile(cacheFile(imageId), 'utf8')) as FullInstall | { base: string };
    return 'base' in entry ? await recall(entry.base) : { ...entry, id: imageId };
  } catch {
    return undefined;
  }
}

/** Files the build reads to make the distribution's metadata: never copied as they are. */
const BUILD_FILES = new Set(['pyproject.toml', 'setup.py', 'setup.cfg', 'MANIFEST.in', 'hatch.toml', 'pdm.toml']);

/** Whether the changes can be written as they are, and where; else why a full install is needed. */
export function syncable(learned: Learned, changes: FileChange[]): { files: SyncPlan['files'] } | { reason: string } {
  if (!changes.length) return { reason: 'no file differs from the full install (its reference was removed)' };
  const files: SyncPlan['files'] = [];
  for (const { path, change } of changes) {
    const installed = learned.files[path];
    if (change === 'added') return { reason: `${path} is new` };
    if (change === 'deleted') return { reason: `${path} was removed` };
    if (change === 'retyped') return { reason: `${path} changed mode` };
    if (BUILD_FILES.has(path.slice(path.lastIndexOf('/') + 1)))
      return { reason: `${path} changed (the build reads it)` };
    if (!installed) return { reason: `${path} is not a file the install copied as it is` };
    if (installed.some((i) => i.meta))
      return { reason: `${path} changed, and the build reads it (a version, or a path its configuration names)` };
    files.push({ path, installed });
  }
  return { files };
}

/**
 * Whether this build can be a sync: the working copy patched before into this image (same path,
 * interpreter and options), its full install known, and only files it copied verbatim changed.
 * Returns the sync, or why not (undefined when it was never a candidate).
 */
export async function planSync(
  ctx: Context,
  build: {
    replaces?: PatchRecord;
    python: string;
    noDeps: boolean;
    originalId: string;
    currentId: string;
    target: { activeImageId?: string };
  },
  source: ResolvedSource,
): Promise<SyncPlan | { reason: string } | undefined> {
  const was = build.replaces;
  if (
    source.kind !== 'dir' ||
    !was ||
    was.kind !== 'dir' ||
    was.path !== source.path ||
    was.python !== build.python ||
    was.noDeps !== build.noDeps
  )
    return undefined;
  if (!ctx.engine.addsLayers) return { reason: 'this engine cannot write a layer without a container (Podman)' };
  // The image with the active patch set: the tagged derivative, or (--keep-tag) the one nfhot's active reference names.
  const active = build.target.activeImageId ?? (build.currentId !== build.originalId ? build.currentId : undefined);
  const install = active && (await recall(active));
  if (!install) return { reason: 'the full install of the working copy is not known on this machine' };
  // The snapshot the full install was made from is in nfhot's cache, as this one is.
  const [base, changes] = await Promise.all([
    ctx.engine.inspectImage(install.id),
    ctx.git.changedFiles({ ...source.tree, tree: install.tree }, source.tree).catch(() => undefined),
  ]);
  if (!base || !changes) return { reason: 'the full install of the working copy is no longer there' };
  if (install.version !== versionKey(source))
    return {
      reason:
        'the version git gives it changed since the full install (a commit, a tag, or the day of an uncommitted change)',
    };
  const sync = syncable(install.learned, changes);
  return 'reason' in sync ? sync : { base, files: sync.files, learned: install.learned };
}

const recordHash = (data: Buffer) => `sha256=${createHash('sha256').update(data).digest('base64url')}`;

/** The path field of a RECORD line (CSV: quoted when it holds a comma or quote). */
function recordPath(line: string): string {
  if (!line.startsWith('"')) return line.slice(0, line.indexOf(','));
  const m = /^"((?:[^"]|"")*)"/.exec(line);
  return m ? m[1]!.replace(/""/g, '"') : line;
}

const csv = (field: string) => (/[",\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field);

/**
 * The layer of a sync: each changed file's new content where the install put it (owner and mode
 * as there), the bytecode compiled from the old content removed (Python compiles the new on
 * import), the RECORD saying the new hashes, and the directories above as they were.
 */
export function syncLayer(sync: Pick<SyncPlan, 'files' | 'learned'>, contents: Buffer[], now: number): LayerEntry[] {
  const { learned } = sync;
  const files: LayerEntry[] = [];
  const lines = new Map<string, string | undefined>();
  sync.files.forEach(({ installed }, n) => {
    const content = contents[n]!;
    for (const i of installed) {
      const [mode, uid, gid] = i.stat;
      files.push({ kind: 'file', path: i.dest, content, mode, uid, gid, mtime: now });
      lines.set(i.entry, `${csv(i.entry)},${recordHash(content)},${content.length}`);
      for (const pyc of i.pyc) {
        files.push({ kind: 'whiteout', path: pyc.dest });
        lines.set(pyc.entry, undefined);
      }
    }
  });
  const record = Buffer.from(
    learned.record.text
      .split('\n')
      .flatMap((line) => {
        const path = line && recordPath(line);
        return !path || !lines.has(path) ? [line] : lines.get(path) === undefined ? [] : [lines.get(path)!];
      })
      .join('\n'),
  );
  const [mode, uid, gid] = learned.record.stat;
  files.push({ kind: 'file', path: learned.record.dest, content: record, mode, uid, gid, mtime: now });
  // Every directory above, parents first, with the owner, mode and time it has below this layer.
  const dirs = new Set<string>();
  for (const f of files)
    for (let d = f.path.slice(0, f.path.lastIndexOf('/')); d; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d);
  const parents: LayerEntry[] = [...dirs].sort().flatMap((d) => {
    const stat = learned.dirs[d];
    return stat ? [{ kind: 'dir' as const, path: d, mode: stat[0], uid: stat[1], gid: stat[2], mtime: stat[3] }] : [];
  });
  return [...parents, ...files];
}
