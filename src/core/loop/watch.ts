import { lstatSync, readdirSync, watch as watchDir, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';

/** Directories of a working copy that are never the package's source: anywhere, and at its top (build output, environments). */
const SKIPPED_ANYWHERE = new Set([
  '.git',
  '__pycache__',
  'node_modules',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
]);
const SKIPPED_AT_TOP = new Set(['build', 'dist', '.venv', 'venv', '.tox', '.nox', '.eggs']);

/**
 * Changes that never change the package: git's own files, bytecode, and editor swap, backup and
 * temporary files. What .gitignore ignores needs no list here: the working copy's snapshot leaves
 * it out, so a change to it leaves the tree, and the patch, as they were.
 */
export function ignoredChange(relative: string): boolean {
  const parts = relative.split(/[\\/]/);
  if (parts.some((p) => SKIPPED_ANYWHERE.has(p))) return true;
  const name = basename(relative);
  return (
    /\.(pyc|pyo|swx|swpx|tmp|bak|orig)$/.test(name) ||
    name.endsWith('~') ||
    name.startsWith('.#') ||
    /^#.*#$/.test(name) ||
    name === '4913' || // vim's probe for a writable directory
    /^\.goutputstream-/.test(name) ||
    /\.sw[a-p]$/.test(name) // vim's swap files: .swp, then .swo, …
  );
}

/**
 * Runs `work` once things have been quiet for `quietMs` after the last `poke`: a burst of saves
 * gives one run. Never two runs at once: pokes while one runs make exactly one more run after it
 * (again after a quiet period), so no change is lost. `work` gets what was poked with since the
 * run before; it must not throw (a failed patch is reported, and watching goes on).
 */
export class Coalescer<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pending: T[] = [];
  private stopped = false;

  constructor(
    private readonly work: (changes: T[]) => Promise<void>,
    private readonly quietMs: number,
  ) {}

  poke(change: T): void {
    if (this.stopped) return;
    this.pending.push(change);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fire(), this.quietMs);
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    if (this.running) return; // the run under way fires again when it ends
    const changes = this.pending;
    this.pending = [];
    this.running = this.work(changes).finally(() => {
      this.running = undefined;
      if (this.pending.length && !this.stopped && !this.timer)
        this.timer = setTimeout(() => void this.fire(), this.quietMs);
    });
    await this.running;
  }

  /** Stops taking pokes; resolves once the run under way (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

function skippedDir(relative: string): boolean {
  const parts = relative.split('/');
  return (
    parts.some((p) => SKIPPED_ANYWHERE.has(p) || p.endsWith('.egg-info')) ||
    (parts.length === 1 && SKIPPED_AT_TOP.has(parts[0]!))
  );
}

const isRealDirectory = (path: string) => {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Calls `onChange` with the path (relative to `root`) of each file created, changed, renamed or
 * removed under `root`, directories made later included. One inotify watch per directory (not
 * per file: an editor that saves by renaming a new file over the old one is seen), none in
 * .git, bytecode caches, build output or virtual environments.
 */
export function watchTree(root: string, onChange: (relative: string) => void): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  const add = (relative: string): void => {
    if (watchers.has(relative) || (relative && skippedDir(relative))) return;
    const path = relative ? join(root, relative) : root;
    let watcher: FSWatcher;
    try {
      watcher = watchDir(path, (_event, name) => {
        if (!name) return;
        const child = relative ? `${relative}/${name}` : String(name);
        if (isRealDirectory(join(root, child))) {
          if (skippedDir(child)) return;
          add(child); // a new directory, and what is in it already
          onChange(child);
        } else if (!ignoredChange(child)) onChange(child);
      });
    } catch {
      return; // gone already
    }
    watcher.on('error', () => {
      watcher.close();
      watchers.delete(relative);
    });
    watchers.set(relative, watcher);
    for (const entry of readdirSync(path, { withFileTypes: true }))
      if (entry.isDirectory()) add(relative ? `${relative}/${entry.name}` : entry.name);
  };
  add('');
  return {
    close() {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
