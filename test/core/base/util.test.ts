import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sizeOf, withHostLock, writeFileAtomic } from '../../../src/core/base/util.js';
import { tempDir } from '../../helpers/repos.js';

describe('withHostLock', () => {
  it('lets one holder in at a time, and goes when the work ends, even by a throw', async () => {
    const lock = join(tempDir(), 'x.lock');
    const events: string[] = [];
    const hold = (name: string) =>
      withHostLock(lock, async () => {
        events.push(`${name} in`);
        await sleep(60);
        events.push(`${name} out`);
      });
    await Promise.all([hold('a'), sleep(10).then(() => hold('b'))]);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out']);
    await expect(withHostLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('takes back a lock whose holder is gone', async () => {
    const lock = join(tempDir(), 'x.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), '999999999'); // no such process
    expect(await withHostLock(lock, async () => 'mine')).toBe('mine');
  });
});

describe('writeFileAtomic', () => {
  it('leaves the old file or the new one, and no temporary file when the write fails', async () => {
    const dir = tempDir();
    const path = join(dir, 'f');
    await writeFileAtomic(path, 'one');
    await expect(
      writeFileAtomic(path, 'two', () => {
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
    await writeFileAtomic(path, 'three');
    expect(readFileSync(path, 'utf8')).toBe('three');
  });
});

describe('sizeOf', () => {
  it('says kB under a megabyte, else MB', () => {
    expect([6066, 999_949, 1_000_000, 11_489_280].map(sizeOf)).toEqual(['6.1 kB', '999.9 kB', '1.0 MB', '11.5 MB']);
  });
});
