import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer, ignoredChange, watchTree } from '../../../src/core/loop/watch.js';
import { tempDir } from '../../helpers/repos.js';

describe('ignoredChange', () => {
  it("ignores git's files, bytecode and editors' swap, backup and temporary files", () => {
    for (const p of [
      '.git/index',
      'src/pkg/__pycache__/m.cpython-311.pyc',
      'src/pkg/m.pyc',
      'src/pkg/.m.py.swp',
      'src/pkg/m.py~',
      'src/pkg/.#m.py',
      'src/pkg/#m.py#',
      'src/pkg/4913',
      'src/pkg/m.py.tmp',
    ]) {
      expect(ignoredChange(p), p).toBe(true);
    }
  });

  it('takes modules, data files and build files as changes', () => {
    for (const p of ['src/pkg/m.py', 'pyproject.toml', 'setup.py', 'src/pkg/data/table.tsv', 'src/pkg/git_tools.py'])
      expect(ignoredChange(p), p).toBe(false);
  });
});

describe('Coalescer', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** A work function that takes `ms` of (fake) time and records what it was given. */
  function recorder(ms: number) {
    const runs: string[][] = [];
    let active = 0;
    let overlapped = false;
    const work = async (changes: string[]) => {
      if (active++ > 0) overlapped = true;
      runs.push(changes);
      await new Promise((resolve) => setTimeout(resolve, ms));
      active--;
    };
    return { runs, work, overlapped: () => overlapped };
  }

  it('runs once for a burst of pokes, after the quiet period', async () => {
    const r = recorder(100);
    const c = new Coalescer(r.work, 300);
    for (const f of ['a', 'b', 'c']) {
      c.poke(f);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(r.runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(r.runs).toEqual([['a', 'b', 'c']]);
  });

  it('never runs twice at once: pokes during a run make one more run after it', async () => {
    const r = recorder(1000);
    const c = new Coalescer(r.work, 300);
    c.poke('a');
    await vi.advanceTimersByTimeAsync(400); // the run has started
    c.poke('b');
    await vi.advanceTimersByTimeAsync(400);
    c.poke('c');
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.runs).toEqual([['a'], ['b', 'c']]);
    expect(r.overlapped()).toBe(false);
  });

  it('stops taking pokes, and waits for the run under way', async () => {
    const r = recorder(1000);
    const c = new Coalescer(r.work, 300);
    c.poke('a');
    await vi.advanceTimersByTimeAsync(400);
    const stopping = c.stop();
    c.poke('b');
    await vi.advanceTimersByTimeAsync(2000);
    await stopping;
    expect(r.runs).toEqual([['a']]);
  });
});

describe('watchTree', () => {
  /** Watches a fresh tree; `seen` collects what it reports. */
  function watched(setup: (dir: string) => void) {
    const dir = tempDir();
    setup(dir);
    const seen = new Set<string>();
    const w = watchTree(dir, (p) => void seen.add(p));
    return { dir, seen, close: () => w.close() };
  }
  const settle = () => sleep(200);

  it('sees edits, saves by rename, new files in new directories; not .git, bytecode, swap files or build output', async () => {
    const t = watched((dir) => {
      for (const d of ['.git', 'src/pkg/__pycache__', 'build/lib', '.venv/lib'])
        mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'src/pkg/m.py'), 'x = 1\n');
    });
    try {
      writeFileSync(join(t.dir, 'src/pkg/m.py'), 'x = 2\n');
      writeFileSync(join(t.dir, 'src/pkg/.m.py.swp'), 'swap');
      writeFileSync(join(t.dir, 'src/pkg/n.py.tmp'), 'y = 1\n');
      renameSync(join(t.dir, 'src/pkg/n.py.tmp'), join(t.dir, 'src/pkg/n.py')); // a save by rename
      for (const f of ['.git/index', 'src/pkg/__pycache__/m.cpython-311.pyc', 'build/lib/m.py', '.venv/lib/site.py'])
        writeFileSync(join(t.dir, f), 'x');
      mkdirSync(join(t.dir, 'src/pkg/sub'));
      await settle();
      writeFileSync(join(t.dir, 'src/pkg/sub/o.py'), 'z = 1\n'); // in a directory made after the start
      await settle();
      expect([...t.seen].sort()).toEqual(['src/pkg/m.py', 'src/pkg/n.py', 'src/pkg/sub', 'src/pkg/sub/o.py']);
    } finally {
      t.close();
    }
  });
});
