import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { historyFromApi } from '../../../src/adapters/docker/history.js';
import { tarOf } from '../../../src/adapters/docker/tar.js';

describe('historyFromApi', () => {
  it('gives exactly as many steps a layer as there are layers, metadata steps last', () => {
    const newestFirst = [
      { Created: 3, CreatedBy: '/bin/sh', Comment: 'nfhot', Size: 5000 },
      { Created: 2, CreatedBy: '/bin/sh -c #(nop)  CMD ["greet"]', Comment: '', Size: 0 },
      { Created: 2, CreatedBy: '/bin/sh -c touch /empty', Comment: '', Size: 0 },
      { Created: 1, CreatedBy: '', Comment: 'Imported from -', Size: 190_000_000 },
    ];
    const history = historyFromApi(newestFirst, 3);
    expect(history.map((h) => Boolean(h.empty_layer))).toEqual([false, false, true, false]);
    expect(history[0]).toEqual({ created: '1970-01-01T00:00:01.000Z', comment: 'Imported from -' });
  });
});

describe('tarOf', () => {
  it('writes an archive tar reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfhot-tar-'));
    try {
      writeFileSync(join(dir, 'a.tar'), tarOf({ 'manifest.json': '[{"x":1}]', 'abc.json': Buffer.from('{}') }));
      expect((await execa('tar', ['-tvf', join(dir, 'a.tar')])).stdout).toMatch(/manifest\.json[\s\S]*abc\.json/);
      expect((await execa('tar', ['-xOf', join(dir, 'a.tar'), 'manifest.json'])).stdout).toBe('[{"x":1}]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps long paths (pax), owners, modes, times and directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfhot-tar-'));
    try {
      const long = `opt/conda/envs/${'x'.repeat(90)}/lib/python3.11/site-packages/greet/core.py`;
      const tar = tarOf([
        { name: 'opt/conda', dir: true, mode: 0o2775, uid: 1000, gid: 100, mtime: 1_700_000_000 },
        { name: long, content: Buffer.from('print(1)\n'), mode: 0o644, uid: 57439, gid: 57439, mtime: 1_700_000_001 },
        { name: 'opt/conda/.wh.gone.pyc', content: Buffer.alloc(0) },
      ]);
      writeFileSync(join(dir, 'l.tar'), tar);
      const listing = (
        await execa('tar', ['--numeric-owner', '--full-time', '-tvf', join(dir, 'l.tar')], { env: { TZ: 'UTC' } })
      ).stdout.split('\n');
      expect(listing[0]).toMatch(/^drwxrwsr-x 1000\/100 +0 2023-11-14 22:13:20 opt\/conda\/$/);
      expect(listing[1]).toMatch(new RegExp(`^-rw-r--r-- 57439/57439 +9 2023-11-14 22:13:21 ${long}$`));
      expect(listing[2]).toMatch(/ opt\/conda\/\.wh\.gone\.pyc$/);
      expect((await execa('tar', ['-xOf', join(dir, 'l.tar'), long])).stdout).toBe('print(1)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
