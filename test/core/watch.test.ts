import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer, ignoredChange } from '../../src/core/watch.js';

describe('ignoredChange', () => {
  it("ignores git's files, bytecode and editors' swap, backup and temporary files", () => {
    for (const p of ['.git/index', 'src/pkg/__pycache__/m.cpython-311.pyc', 'src/pkg/m.pyc', 'src/pkg/.m.py.swp', 'src/pkg/m.py~', 'src/pkg/.#m.py', 'src/pkg/#m.py#', 'src/pkg/4913', 'src/pkg/m.py.tmp']) {
      expect(ignoredChange(p), p).toBe(true);
    }
  });

  it('takes modules, data files and build files as changes', () => {
    for (const p of ['src/pkg/m.py', 'pyproject.toml', 'setup.py', 'src/pkg/data/table.tsv', 'src/pkg/git_tools.py']) expect(ignoredChange(p), p).toBe(false);
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
