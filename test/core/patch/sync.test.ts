import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { syncable, syncLayer, type Learned } from '../../../src/core/patch/sync.js';
import type { LayerEntry } from '../../../src/core/ports/engine.js';

const SITE = '/opt/conda/lib/python3.11/site-packages';
const record = [
  '../../../bin/greet,sha256=abc,209',
  'greet-1.0.0.dist-info/METADATA,sha256=def,80',
  'greet-1.0.0.dist-info/RECORD,,',
  'greet/__init__.py,sha256=old,109',
  'greet/__pycache__/__init__.cpython-311.pyc,,',
  'greet/core.py,sha256=old,50',
  'greet/__pycache__/core.cpython-311.pyc,sha256=pyc,300',
  '"greet/data/a,b.txt",sha256=old,3',
  '',
].join('\n');
const learned: Learned = {
  record: {
    dest: `${SITE}/greet-1.0.0.dist-info/RECORD`,
    entry: 'greet-1.0.0.dist-info/RECORD',
    stat: [0o644, 1000, 100, 1],
    text: record,
  },
  files: {
    'src/greet/__init__.py': [
      {
        dest: `${SITE}/greet/__init__.py`,
        entry: 'greet/__init__.py',
        stat: [0o644, 1000, 100, 1],
        meta: false,
        pyc: [
          {
            entry: 'greet/__pycache__/__init__.cpython-311.pyc',
            dest: `${SITE}/greet/__pycache__/__init__.cpython-311.pyc`,
          },
        ],
      },
    ],
    'src/greet/core.py': [
      {
        dest: `${SITE}/greet/core.py`,
        entry: 'greet/core.py',
        stat: [0o664, 1000, 100, 1],
        meta: false,
        pyc: [
          { entry: 'greet/__pycache__/core.cpython-311.pyc', dest: `${SITE}/greet/__pycache__/core.cpython-311.pyc` },
        ],
      },
    ],
    'src/greet/data/a,b.txt': [
      {
        dest: `${SITE}/greet/data/a,b.txt`,
        entry: 'greet/data/a,b.txt',
        stat: [0o644, 1000, 100, 1],
        meta: false,
        pyc: [],
      },
    ],
    'src/greet/_version.py': [
      {
        dest: `${SITE}/greet/_version.py`,
        entry: 'greet/_version.py',
        stat: [0o644, 1000, 100, 1],
        meta: true,
        pyc: [],
      },
    ],
  },
  dirs: Object.fromEntries(
    [
      '/opt',
      '/opt/conda',
      '/opt/conda/lib',
      '/opt/conda/lib/python3.11',
      SITE,
      `${SITE}/greet`,
      `${SITE}/greet/__pycache__`,
      `${SITE}/greet/data`,
      `${SITE}/greet-1.0.0.dist-info`,
    ].map((d, i) => [d, [0o2775, 1000, 100, 100 + i]]),
  ),
};

describe('syncable', () => {
  it('takes modified files the install copied as they are', () => {
    const r = syncable(learned, [
      { path: 'src/greet/core.py', change: 'modified' },
      { path: 'src/greet/data/a,b.txt', change: 'modified' },
    ]);
    expect('files' in r && r.files.map((f) => f.path)).toEqual(['src/greet/core.py', 'src/greet/data/a,b.txt']);
  });

  it('falls back to the full install for anything else, saying why', () => {
    const why = (path: string, change: 'added' | 'deleted' | 'modified' | 'retyped' = 'modified') => {
      const r = syncable(learned, [
        { path: 'src/greet/core.py', change: 'modified' },
        { path, change },
      ]);
      return 'reason' in r ? r.reason : undefined;
    };
    expect(why('pyproject.toml')).toBe('pyproject.toml changed (the build reads it)');
    expect(why('setup.py')).toMatch(/the build reads it/);
    expect(why('sub/setup.cfg')).toMatch(/the build reads it/);
    expect(why('src/greet/new.py', 'added')).toBe('src/greet/new.py is new');
    expect(why('src/greet/__init__.py', 'deleted')).toBe('src/greet/__init__.py was removed');
    expect(why('src/greet/core.py', 'retyped')).toBe('src/greet/core.py changed mode');
    expect(why('src/greet/_speed.c')).toBe('src/greet/_speed.c is not a file the install copied as it is');
    expect(why('README.md')).toMatch(/not a file the install copied/);
    expect(why('src/greet/_version.py')).toMatch(/the build reads it \(a version/);
    expect(syncable(learned, [])).toEqual({ reason: expect.stringMatching(/no file differs/) });
  });
});

describe('syncLayer', () => {
  const layer = syncLayer(
    {
      learned,
      files: [
        { path: 'src/greet/core.py', installed: learned.files['src/greet/core.py']! },
        { path: 'src/greet/data/a,b.txt', installed: learned.files['src/greet/data/a,b.txt']! },
      ],
    },
    [Buffer.from('print("new")\n'), Buffer.from('x,y\n')],
    1_800_000_000,
  );
  const byPath = new Map(layer.map((e) => [e.path, e]));

  it('writes each file where the install put it, with its mode and owner, and removes its stale bytecode', () => {
    expect(byPath.get(`${SITE}/greet/core.py`)).toEqual({
      kind: 'file',
      path: `${SITE}/greet/core.py`,
      content: Buffer.from('print("new")\n'),
      mode: 0o664,
      uid: 1000,
      gid: 100,
      mtime: 1_800_000_000,
    });
    expect(byPath.get(`${SITE}/greet/__pycache__/core.cpython-311.pyc`)).toEqual({
      kind: 'whiteout',
      path: `${SITE}/greet/__pycache__/core.cpython-311.pyc`,
    });
    expect(byPath.has(`${SITE}/greet/__init__.py`)).toBe(false);
  });

  it('gives every directory above, parents first, as it was', () => {
    const dirs = layer.filter((e): e is Extract<LayerEntry, { kind: 'dir' }> => e.kind === 'dir');
    expect(dirs.map((d) => d.path)).toEqual(
      [
        '/opt',
        '/opt/conda',
        '/opt/conda/lib',
        '/opt/conda/lib/python3.11',
        SITE,
        `${SITE}/greet`,
        `${SITE}/greet-1.0.0.dist-info`,
        `${SITE}/greet/__pycache__`,
        `${SITE}/greet/data`,
      ].sort(),
    );
    expect(dirs.find((d) => d.path === SITE)).toMatchObject({ mode: 0o2775, uid: 1000, gid: 100, mtime: 104 });
    expect(layer.findIndex((e) => e.kind !== 'dir')).toBe(dirs.length); // directories come first
  });

  it('rewrites the RECORD: new hashes and sizes, the removed bytecode no longer listed, the rest as it was', () => {
    const rec = byPath.get(learned.record.dest);
    expect(rec).toMatchObject({ kind: 'file', mode: 0o644, uid: 1000, gid: 100 });
    const hash = (s: string) => createHash('sha256').update(s).digest('base64url');
    expect((rec as { content: Buffer }).content.toString()).toBe(
      [
        '../../../bin/greet,sha256=abc,209',
        'greet-1.0.0.dist-info/METADATA,sha256=def,80',
        'greet-1.0.0.dist-info/RECORD,,',
        'greet/__init__.py,sha256=old,109',
        'greet/__pycache__/__init__.cpython-311.pyc,,',
        `greet/core.py,sha256=${hash('print("new")\n')},13`,
        `"greet/data/a,b.txt",sha256=${hash('x,y\n')},4`,
        '',
      ].join('\n'),
    );
  });
});
