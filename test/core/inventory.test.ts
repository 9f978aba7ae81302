// inventory.py (what nfhot diff reads in an image), run with the host's Python on site
// directories made here: which distribution counts, and which files each name has.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/repos.js';

const write = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};

describe('inventory.py', () => {
  it('lists the distribution import uses, ignores the working directory, and gives the files of every distribution of a name (egg-info too)', async () => {
    const root = tempDir();
    const [first, second, cwd] = [join(root, 'first'), join(root, 'second'), join(root, 'cwd')] as const;
    // first on the path: pkg 2.0; second: pkg 1.0 (shadowed, its files still there) and a legacy egg-info.
    write(join(first, 'pkg/__init__.py'), 'new\n');
    write(join(first, 'pkg-2.0.dist-info/METADATA'), 'Metadata-Version: 2.1\nName: pkg\nVersion: 2.0\n');
    write(
      join(first, 'pkg-2.0.dist-info/RECORD'),
      'pkg/__init__.py,,\npkg-2.0.dist-info/METADATA,,\npkg-2.0.dist-info/RECORD,,\n',
    );
    write(join(second, 'pkg/old.py'), 'old\n');
    write(join(second, 'pkg-1.0.dist-info/METADATA'), 'Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n');
    write(join(second, 'pkg-1.0.dist-info/RECORD'), 'pkg/old.py,,\n');
    write(join(second, 'legacy.py'), 'x = 1\n');
    write(join(second, 'Legacy.egg-info/PKG-INFO'), 'Metadata-Version: 1.0\nName: Legacy\nVersion: 0.1\n');
    write(join(second, 'Legacy.egg-info/SOURCES.txt'), 'setup.py\nlegacy.py\n');
    write(join(second, 'Legacy.egg-info/installed-files.txt'), '../legacy.py\nPKG-INFO\n');
    // A stale egg-info where the image's WORKDIR is: `python -c` would put it first.
    write(join(cwd, 'pkg.egg-info/PKG-INFO'), 'Metadata-Version: 1.0\nName: pkg\nVersion: 0.5\n');
    const run = await execa(
      'python3',
      ['-c', readFileSync('src/python/inventory.py', 'utf8'), 'list', 'pkg', 'legacy', 'absent'],
      { cwd, env: { PYTHONPATH: `${first}:${second}` } },
    );
    const out = JSON.parse(run.stdout) as {
      dists: { name: string; version: string; metadata: string }[];
      files: Record<string, Record<string, string> | null>;
    };
    expect(out.dists.find((d) => d.name === 'pkg')).toMatchObject({
      version: '2.0',
      metadata: join(first, 'pkg-2.0.dist-info'),
    });
    expect(out.dists.find((d) => d.name === 'legacy')).toMatchObject({ version: '0.1' });
    expect(Object.keys(out.files.pkg!).sort()).toEqual([
      join(first, 'pkg-2.0.dist-info/METADATA'),
      join(first, 'pkg-2.0.dist-info/RECORD'),
      join(first, 'pkg/__init__.py'),
      join(second, 'pkg/old.py'),
    ]);
    expect(out.files.pkg![join(first, 'pkg/__init__.py')]).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(out.files.legacy!).sort()).toEqual([
      join(second, 'Legacy.egg-info/PKG-INFO'),
      join(second, 'legacy.py'),
    ]);
    expect(out.files.absent).toBeNull();
  });
});
