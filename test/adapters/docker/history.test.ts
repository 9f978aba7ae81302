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
});
