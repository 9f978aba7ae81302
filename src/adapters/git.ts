import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { type ExecaError, execa } from 'execa';
import { cacheDir } from '../core/base/dirs.js';
import { UserError } from '../core/base/errors.js';
import { redact, stripCredentials } from '../core/base/redact.js';
import type { Described, FileChange, Git, Snapshot, TreeRef } from '../core/ports/git.js';
import { hashHex } from '../core/image/reference.js';
import { describeRevision } from './git-describe.js';
import { baseEnv, bareRepository, type Env, gitError, runGit } from './git-process.js';

/** Paths a plain (non-git) directory never contributes: build output, caches, environments. */
const PLAIN_DIR_EXCLUDES = [
  '.git',
  '__pycache__/',
  '*.py[cod]',
  '*.egg-info/',
  'build/',
  'dist/',
  '.venv/',
  'venv/',
  '.tox/',
  '.nox/',
  '.eggs/',
  'node_modules/',
  '.mypy_cache/',
  '.pytest_cache/',
  '.ruff_cache/',
];

/** Never part of a snapshot, ignored or not: bytecode, and editors' swap, backup and lock files (a vim swap file changes with every keystroke). */
const NEVER_SNAPSHOT = ['__pycache__/**', '*.py[cod]', '*.sw[a-p]', '*~', '.#*', '#*#'].map(
  (p) => `:(exclude,glob)**/${p}`,
);

/** Git through execa, with nfhot's object cache: one bare repository for every source. */
export class ExecaGit implements Git {
  private readonly repo = join(cacheDir(), 'git');
  private ready: Promise<void> | undefined;
  private readonly checkouts = new Map<string, Promise<string[] | undefined>>();

  private git(args: string[], options: { env?: Env; cwd?: string; input?: string } = {}): Promise<string> {
    return runGit(args, { ...options, cwd: options.cwd ?? this.repo });
  }

  private init(): Promise<void> {
    // Snapshots are unreachable objects: never let an automatic gc prune them.
    this.ready ??= bareRepository(this.repo, ['gc.auto', '0']);
    return this.ready;
  }

  async fetch(url: string, ref: string | undefined): Promise<string> {
    await this.init();
    const want = ref ?? 'HEAD';
    if (/^[0-9a-f]{40}$/.test(want) && (await this.commitOf(want))) return want;
    const tmp = `refs/nfhot/fetch/${randomBytes(6).toString('hex')}`;
    // The last commit fetched from this URL stays named: the next shallow fetch says it has it, and
    // only what changed since comes (else the whole tree again, for every new commit).
    const last = `refs/nfhot/last/${hashHex(stripCredentials(url)).slice(0, 24)}`;
    const fetchInto = (refspecs: string[], depth: string[] = []) =>
      this.git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', ...depth, '--', url, ...refspecs]);
    try {
      const notFound = new UserError(
        redact(`ref ${JSON.stringify(want)} not found in ${url}`),
        'give an existing branch, tag or commit',
      );
      try {
        await fetchInto([`+${want}:${tmp}`], ['--depth=1']);
        const commit = await this.commitOf(tmp);
        if (commit) {
          await this.git(['update-ref', last, commit]).catch(() => undefined); // a hint for the next fetch only
          return commit;
        }
      } catch (err) {
        // A name the server does not have is not found; but dumb HTTP cannot fetch shallow, and
        // servers may refuse a commit no ref advertises: for those, fetch every branch and tag
        // and resolve the ref here.
        if (/couldn't find remote ref/i.test(String((err as ExecaError).stderr)) && !/^[0-9a-f]{4,40}$/.test(want))
          throw notFound;
      }
      const ns = `refs/nfhot/remote/${randomBytes(6).toString('hex')}`;
      try {
        await fetchInto([`+HEAD:${ns}/HEAD`, `+refs/heads/*:${ns}/heads/*`, `+refs/tags/*:${ns}/tags/*`]);
      } catch (err) {
        throw gitError(
          err,
          `cannot fetch ${url}`,
          'check the URL and that your git credentials (ssh key, credential helper) give access to it',
        );
      }
      try {
        for (const candidate of want === 'HEAD'
          ? [`${ns}/HEAD`]
          : [`${ns}/heads/${want}`, `${ns}/tags/${want}`, want]) {
          const commit = await this.commitOf(candidate);
          if (commit) return commit;
        }
      } finally {
        await this.deleteRefs(ns);
      }
      throw notFound;
    } finally {
      void this.git(['update-ref', '-d', tmp]).catch(() => undefined); // tidying only: no need to wait
    }
  }

  private async deleteRefs(prefix: string): Promise<void> {
    const refs = await this.git(['for-each-ref', '--format=delete %(refname)', prefix]).catch(() => '');
    if (refs)
      await execa('git', ['update-ref', '--stdin'], { cwd: this.repo, input: `${refs}\n` }).catch(() => undefined);
  }

  private async commitOf(rev: string): Promise<string | undefined> {
    return this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).catch(() => undefined);
  }

  async treeOf(commit: string, subdirectory?: string): Promise<string | undefined> {
    await this.init();
    // `C:PATH^{tree}` would read `^{tree}` as part of the path: the object at C:PATH is asked for, and must be a tree.
    const rev = subdirectory ? `${commit}^{tree}:${subdirectory.replace(/\/+$/, '')}` : `${commit}^{tree}`;
    const out = await this.git(['cat-file', '--batch-check'], { input: `${rev}\n` }).catch(() => '');
    const [sha, type] = out.split(' ');
    return type === 'tree' ? sha : undefined;
  }

  /** Where a directory's checkout is (top, index, objects, prefix); undefined outside one. Asked once per directory (watch snapshots often). */
  private locate(path: string): Promise<string[] | undefined> {
    let found = this.checkouts.get(path);
    if (!found) {
      // Four answers, one per line: asked again one by one when a path holds a newline (more lines come back).
      const ask = (...args: string[]) => this.git(['rev-parse', ...args], { cwd: path });
      const questions = [['--show-toplevel'], ['--git-path', 'index'], ['--git-path', 'objects'], ['--show-prefix']];
      found = ask(...questions.flat())
        .then((out) => {
          const lines = out.split('\n');
          return lines.length === questions.length ? lines : Promise.all(questions.map((q) => ask(...q)));
        })
        .catch((err: unknown) => {
          if (/not a git repository/i.test(String((err as ExecaError).stderr ?? ''))) return undefined;
          this.checkouts.delete(path);
          throw gitError(err, `cannot read ${path} with git`);
        });
      this.checkouts.set(path, found);
    }
    return found;
  }

  async published(dir: string, commit: string): Promise<{ url: string; subdirectory: string } | undefined> {
    const where = await this.locate(dir);
    if (!where) return undefined;
    const [branches, remotes] = await Promise.all([
      this.git(['branch', '-r', '--contains', commit, '--format=%(refname:short)'], { cwd: dir }).catch(() => ''),
      this.git(['remote'], { cwd: dir }).catch(() => ''),
    ]);
    // A remote-tracking branch is <remote>/<branch>, and a remote's name may hold a slash: the longest that fits.
    const names = remotes
      .split('\n')
      .filter(Boolean)
      .sort((a, b) => b.length - a.length);
    for (const branch of branches.split('\n').filter((b) => b && !b.endsWith('/HEAD'))) {
      const remote = names.find((r) => branch.startsWith(`${r}/`));
      const url = remote && (await this.git(['remote', 'get-url', remote], { cwd: dir }).catch(() => undefined));
      if (url)
        return {
          url: stripCredentials(/^\.\.?\//.test(url) ? resolve(where[0]!, url) : url),
          subdirectory: where[3]!.replace(/\/$/, ''),
        };
    }
    return undefined;
  }

  async snapshot(dir: string): Promise<Snapshot> {
    await this.init();
    const path = await realpath(resolve(dir));
    const scratch = await mkdtemp(join(tmpdir(), 'nfhot-index-'));
    const index = join(scratch, 'index');
    try {
      const located = await this.locate(path);
      const objects = join(this.repo, 'objects');
      if (located) {
        // In a checkout: stage the working tree into a scratch index seeded from the user's
        // (so unchanged files are not hashed again), writing new objects into nfhot's cache.
        const [top = path, userIndex = '', userObjects = '', prefix = ''] = located;
        const alternates = resolve(path, userObjects);
        if (existsSync(resolve(path, userIndex))) await copyFile(resolve(path, userIndex), index);
        const env = {
          GIT_INDEX_FILE: index,
          GIT_OBJECT_DIRECTORY: objects,
          GIT_ALTERNATE_OBJECT_DIRECTORIES: alternates,
        };
        const [tree, head, branch] = await Promise.all([
          this.git(['add', '--all', '--', '.', ...NEVER_SNAPSHOT], { cwd: path, env }).then(() =>
            this.git(['write-tree', ...(prefix ? [`--prefix=${prefix}`] : [])], { cwd: top, env }),
          ),
          this.git(['rev-parse', 'HEAD', `HEAD:${prefix}`], { cwd: path, env }).catch(() => ''),
          this.git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: path }).catch(() => undefined),
        ]);
        const [commit, headTree] = head.split('\n');
        return {
          tree,
          alternates,
          path,
          ...(commit ? { commit } : {}),
          ...(branch ? { branch } : {}),
          dirty: tree !== headTree,
        };
      }
      const excludes = join(scratch, 'exclude');
      await writeFile(excludes, `${PLAIN_DIR_EXCLUDES.join('\n')}\n`);
      const env = { GIT_DIR: this.repo, GIT_WORK_TREE: path, GIT_INDEX_FILE: index };
      await this.git(['-c', `core.excludesFile=${excludes}`, 'add', '--all', '--', '.', ...NEVER_SNAPSHOT], {
        cwd: path,
        env,
      });
      const tree = await this.git(['write-tree'], { cwd: path, env });
      return { tree, path, dirty: false };
    } catch (err) {
      throw err instanceof UserError ? err : gitError(err, `cannot snapshot ${path}`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async available(tree: string, near?: string): Promise<TreeRef | undefined> {
    await this.init();
    let alternates: string | undefined;
    if (near && existsSync(near)) {
      const objects = await this.git(['rev-parse', '--git-path', 'objects'], { cwd: near }).catch(() => undefined);
      if (objects) alternates = resolve(near, objects);
    }
    const ref: TreeRef = { tree, ...(alternates ? { alternates } : {}) };
    const ok = await this.git(['cat-file', '-e', `${tree}^{tree}`], { env: baseEnv(ref) }).then(
      () => true,
      () => false,
    );
    return ok ? ref : undefined;
  }

  async readFiles(tree: TreeRef, paths: string[]): Promise<(Buffer | undefined)[]> {
    // One `cat-file --batch` answers every path: "<sha> blob <size>\n<content>\n", or "<name> missing\n".
    const { stdout } = await execa('git', ['cat-file', '--batch'], {
      cwd: this.repo,
      env: baseEnv(tree),
      input: `${paths.map((p) => `${tree.tree}:${p}`).join('\n')}\n`,
      encoding: 'buffer',
      stripFinalNewline: false,
    });
    const out = Buffer.from(stdout);
    const texts: (Buffer | undefined)[] = [];
    let at = 0;
    for (let i = 0; i < paths.length; i++) {
      const eol = out.indexOf(10, at);
      const header = out.subarray(at, eol).toString();
      at = eol + 1;
      const m = / blob (\d+)$/.exec(header);
      if (!m) {
        texts.push(undefined);
        continue;
      }
      const size = Number(m[1]);
      texts.push(out.subarray(at, at + size));
      at += size + 1;
    }
    return texts;
  }

  async changedFiles(from: TreeRef, to: TreeRef): Promise<FileChange[]> {
    const alternates = [...new Set([from.alternates, to.alternates].filter(Boolean))].join(':');
    // --raw -z: ":OLDMODE NEWMODE OLDSHA NEWSHA STATUS\0PATH\0" per path.
    const out = await this.git(['diff-tree', '-r', '--raw', '-z', '--no-renames', from.tree, to.tree], {
      env: alternates ? { GIT_ALTERNATE_OBJECT_DIRECTORIES: alternates } : {},
    });
    const fields = out.split('\0');
    const changes: FileChange[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [oldMode, newMode, , , status] = fields[i]!.slice(1).split(' ');
      const change =
        status === 'A'
          ? 'added'
          : status === 'D'
            ? 'deleted'
            : status === 'M' && oldMode === newMode
              ? 'modified'
              : 'retyped';
      changes.push({ path: fields[i + 1]!, change });
    }
    return changes;
  }

  describe(at: { dir: string } | { url: string; commit: string; ref?: string }, match: string[]): Promise<Described> {
    return describeRevision(at, match);
  }

  async extract(tree: TreeRef, dir: string): Promise<void> {
    try {
      await execa('git', ['archive', '--format=tar', '--end-of-options', tree.tree], {
        cwd: this.repo,
        env: baseEnv(tree),
        stdin: 'ignore',
      }).pipe('tar', ['-x', '-C', dir]);
    } catch (err) {
      throw gitError(err, `cannot write the source into ${dir}`);
    }
  }

  archive(tree: TreeRef, prefix: string, files: string[] = []): { stream: Readable; done: Promise<void> } {
    const child = execa(
      'git',
      [
        'archive',
        '--format=tar',
        `--prefix=${prefix}`,
        ...files.map((f) => `--add-file=${f}`),
        '--end-of-options',
        tree.tree,
      ],
      {
        cwd: this.repo,
        env: baseEnv(tree),
        stdin: 'ignore',
        buffer: { stdout: false, stderr: true },
      },
    );
    const done = child.then(
      () => undefined,
      (err: unknown) => {
        throw gitError(err, 'cannot export the source');
      },
    );
    // Held until read (execa drops output nobody reads as it comes): git waits meanwhile.
    return { stream: child.stdout.pipe(new PassThrough()), done };
  }
}
