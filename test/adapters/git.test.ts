import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExecaGit } from '../../src/adapters/git.js';
import { serveRepo } from '../helpers/git-http.js';
import { git, greetRepo, tempDir } from '../helpers/repos.js';

async function listArchive(g: ExecaGit, tree: Parameters<ExecaGit['archive']>[0]): Promise<string[]> {
  const { stream, done } = g.archive(tree, 'src/');
  const tar = execa('tar', ['-t'], { input: stream });
  await done;
  return (await tar).stdout.split('\n').sort();
}

describe('ExecaGit', () => {
  beforeEach(() => {
    process.env.NFHOT_CACHE = tempDir('nfhot-cache-');
  });

  it('resolves branches, tags, full and short commits, and the default branch', async () => {
    const repo = await greetRepo();
    const g = new ExecaGit();
    expect(await g.fetch(repo.url, 'feature')).toBe(await repo.commit('feature'));
    expect(await g.fetch(repo.url, 'v1.1.0')).toBe(await repo.commit('feature'));
    expect(await g.fetch(repo.url, undefined)).toBe(await repo.commit('main'));
    const main = await repo.commit('main');
    expect(await g.fetch(repo.url, main)).toBe(main);
    expect(await g.fetch(repo.url, (await repo.commit('broken')).slice(0, 8))).toBe(await repo.commit('broken'));
    await expect(g.fetch(repo.url, 'nope')).rejects.toThrow(/ref "nope" not found/);
    await expect(g.fetch('file:///no/such/repo', 'main')).rejects.toThrow(/cannot fetch file:\/\/\/no\/such\/repo/);
  });

  for (const mode of ['smart', 'dumb'] as const) {
    it(`fetches over ${mode} HTTP with credentials: default branch, branch, short commit, and says what is missing`, async () => {
      const repo = await greetRepo();
      const server = await serveRepo(repo.dir, 'token-for-fetch', mode);
      const g = new ExecaGit();
      expect(await g.fetch(server.url, undefined)).toBe(await repo.commit('main'));
      expect(await g.fetch(server.url, 'feature')).toBe(await repo.commit('feature'));
      expect(await g.fetch(server.url, (await repo.commit('broken')).slice(0, 10))).toBe(await repo.commit('broken'));
      await expect(g.fetch(server.url, 'nope')).rejects.toThrow(
        /ref "nope" not found in http:\/\/127\.0\.0\.1:\d+\/repo\.git/,
      );
    });
  }

  it('snapshots a checkout as it is now without touching its index', async () => {
    const repo = await greetRepo();
    const g = new ExecaGit();
    const clean = await g.snapshot(repo.dir);
    expect(clean).toMatchObject({ commit: await repo.commit('main'), branch: 'main', dirty: false, path: repo.dir });
    expect(clean.tree).toBe(await git(repo.dir, 'rev-parse', 'HEAD^{tree}'));

    const index = readFileSync(join(repo.dir, '.git/index'));
    writeFileSync(join(repo.dir, 'src/greet/new_module.py'), 'X = 1\n');
    writeFileSync(join(repo.dir, '.gitignore'), 'ignored.txt\n');
    writeFileSync(join(repo.dir, 'ignored.txt'), 'no\n');
    const dirty = await g.snapshot(repo.dir);
    expect(dirty.dirty).toBe(true);
    expect(readFileSync(join(repo.dir, '.git/index'))).toEqual(index);
    expect(await git(repo.dir, 'status', '--porcelain')).toBe('?? .gitignore\n?? src/greet/new_module.py');
    const files = await listArchive(g, dirty);
    expect(files).toContain('src/src/greet/new_module.py');
    expect(files).not.toContain('src/ignored.txt');

    // An editor's swap and backup files and bytecode are never part of it, ignored or not.
    mkdirSync(join(repo.dir, 'src/greet/__pycache__'));
    for (const f of [
      'src/greet/.__init__.py.swp',
      'src/greet/__init__.py~',
      'src/greet/.#__init__.py',
      'src/greet/__pycache__/__init__.cpython-311.pyc',
      'src/greet/old.pyc',
    ])
      writeFileSync(join(repo.dir, f), 'x');
    expect((await g.snapshot(repo.dir)).tree).toBe(dirty.tree);
  });

  it('finds the tree of a subdirectory at a commit, and nothing for a file or a missing path', async () => {
    const repo = await greetRepo();
    const g = new ExecaGit();
    const commit = await g.fetch(repo.url, 'main');
    expect(await g.treeOf(commit)).toBe(await git(repo.dir, 'rev-parse', 'main^{tree}'));
    expect(await g.treeOf(commit, 'src/greet')).toBe(await git(repo.dir, 'rev-parse', 'main:src/greet'));
    expect(await g.treeOf(commit, 'src/greet/')).toBe(await git(repo.dir, 'rev-parse', 'main:src/greet'));
    expect(await g.treeOf(commit, 'pyproject.toml')).toBeUndefined();
    expect(await g.treeOf(commit, 'no/such/dir')).toBeUndefined();
  });

  it('snapshots a subdirectory of a checkout as its own tree', async () => {
    const repo = await greetRepo();
    const g = new ExecaGit();
    const snap = await g.snapshot(join(repo.dir, 'src'));
    expect(snap.tree).toBe(await git(repo.dir, 'rev-parse', 'HEAD:src'));
    expect(await listArchive(g, snap)).toContain('src/greet/__init__.py');
  });

  it('snapshots a plain directory, leaving out build output and caches', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'pkg/__pycache__'), { recursive: true });
    writeFileSync(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
    writeFileSync(join(dir, 'pkg/__init__.py'), '');
    writeFileSync(join(dir, 'pkg/__pycache__/__init__.cpython-311.pyc'), 'x');
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build/junk'), 'x');
    const g = new ExecaGit();
    const snap = await g.snapshot(dir);
    expect(snap.dirty).toBe(false);
    expect(await listArchive(g, snap)).toEqual(['src/', 'src/pkg/', 'src/pkg/__init__.py', 'src/pyproject.toml']);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(
      (await g.readFiles(snap, ['setup.py', 'pyproject.toml', 'pkg/__init__.py'])).map((b) => b?.toString()),
    ).toEqual([undefined, '[project]\nname = "x"\n', '']);
    expect(await g.available(snap.tree)).toEqual({ tree: snap.tree });
  });

  it('says how each path changed between two snapshots: modified, added, deleted, or its mode', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'pkg'));
    for (const f of ['pkg/a.py', 'pkg/b.py', 'pkg/c.py', 'pkg/d.sh']) writeFileSync(join(dir, f), `${f}\n`);
    await git(dir, 'init', '-q', '-b', 'main');
    const g = new ExecaGit();
    const before = await g.snapshot(dir);
    writeFileSync(join(dir, 'pkg/a.py'), 'changed\n');
    rmSync(join(dir, 'pkg/b.py'));
    writeFileSync(join(dir, 'pkg/new.py'), 'new\n');
    chmodSync(join(dir, 'pkg/d.sh'), 0o755);
    const after = await g.snapshot(dir);
    expect(await g.changedFiles(before, after)).toEqual([
      { path: 'pkg/a.py', change: 'modified' },
      { path: 'pkg/b.py', change: 'deleted' },
      { path: 'pkg/d.sh', change: 'retyped' },
      { path: 'pkg/new.py', change: 'added' },
    ]);
  });
});
