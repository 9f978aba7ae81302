import type { Readable } from 'node:stream';

/** A git tree and where its objects are: nfhot's cache, plus the user's own repository for a snapshot. */
export interface TreeRef {
  tree: string;
  /** Object directory to read from besides nfhot's cache. */
  alternates?: string;
}

/** A local directory's working tree as it was at the moment of the snapshot. */
export interface Snapshot extends TreeRef {
  /** Absolute path of the directory. */
  path: string;
  /** The checkout's HEAD commit and branch, when the directory is in a git repository. */
  commit?: string;
  branch?: string;
  /** True when the tree differs from HEAD's. */
  dirty: boolean;
}

/** A path that differs between two trees: `retyped` when its mode changed (executable bit, file ↔ symlink), its content perhaps too. */
export interface FileChange {
  path: string;
  change: 'added' | 'deleted' | 'modified' | 'retyped';
}

/** What git says of a commit, for a version computed from it as setuptools_scm does (`git describe --tags --long`). */
export interface Described {
  /** The nearest tag that matches; undefined when none does (then `distance` counts every commit). */
  tag?: string;
  /** Commits between the tag and the commit. */
  distance: number;
  commit: string;
  /** The commit abbreviated as git abbreviates it in this repository. */
  short: string;
  /** The working copy has changes to tracked files (never for a fetched commit). */
  dirty: boolean;
  branch?: string;
  /** The commit's committer date, ISO 8601. */
  date: string;
  /** The history is cut short (a shallow clone): the tag and distance may be wrong. */
  shallow: boolean;
}

/** Git as nfhot needs it: all of it runs on the host, with the user's own credentials. */
export interface Git {
  /** Fetches `ref` (default: the remote's HEAD) of `url` into nfhot's cache and resolves it to a commit. */
  fetch(url: string, ref: string | undefined): Promise<string>;
  /** The tree of `commit` (or of its `subdirectory`), when the cache holds it. */
  treeOf(commit: string, subdirectory?: string): Promise<string | undefined>;
  /** Records a local directory's working tree, uncommitted edits included, without touching the user's repository. */
  snapshot(dir: string): Promise<Snapshot>;
  /** `tree` as a readable TreeRef when nfhot's cache (with the objects of the checkout at `near`) has it. */
  available(tree: string, near?: string): Promise<TreeRef | undefined>;
  /** The content of each path in the tree (undefined for a path it does not have), read in one go. */
  readFiles(tree: TreeRef, paths: string[]): Promise<(Buffer | undefined)[]>;
  /** The paths that differ between two trees (both readable: in nfhot's cache, or through `near`'s objects). */
  changedFiles(from: TreeRef, to: TreeRef): Promise<FileChange[]>;
  /**
   * Where a checkout's `commit` is published: the URL of a remote whose branch (as the checkout
   * last fetched it) contains it, and `dir`'s path inside the repository. Undefined when no remote
   * branch has it, or `dir` is not in a checkout.
   */
  published(dir: string, commit: string): Promise<{ url: string; subdirectory: string } | undefined>;
  /**
   * Describes a working copy's HEAD (in its checkout), or a commit of a repository (whose
   * branches and tags are fetched, with their history, into a cache of that repository's own),
   * with tags matching `match` (globs, as `git describe --match`).
   */
  describe(at: { dir: string } | { url: string; commit: string; ref?: string }, match: string[]): Promise<Described>;
  /** Writes the tree's files into `dir` (which exists). */
  extract(tree: TreeRef, dir: string): Promise<void>;
  /** A tar stream of the tree, every path under `prefix` (and `files` of this machine, by their names, there too); `done` rejects when git fails. */
  archive(tree: TreeRef, prefix: string, files?: string[]): { stream: Readable; done: Promise<void> };
}
