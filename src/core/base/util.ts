import { statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Maps with at most `limit` calls in flight. Every call runs to its end even when one fails
 * (a half-finished patch must clean up), then the first failure is thrown.
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes a file whole or not at all: a temporary file beside it (`<path>.tmp-<pid>`), then a
 * rename. `beforeRename` runs in between (a test's stop point).
 */
export async function writeFileAtomic(path: string, text: string, beforeRename?: () => void): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    beforeRename?.();
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Whether a process of this machine still runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding a lock of this host: a directory, made atomically, with the holder's pid
 * in it. A lock whose holder is gone is taken back; a live holder is waited for (it only writes
 * a few small files).
 */
export async function withHostLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  for (let waited = 0; ; waited += 20) {
    try {
      await mkdir(path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => ''));
      if (pid > 0 && !alive(pid)) await rm(path, { recursive: true, force: true });
      else if (waited > 30_000) throw new Error(`${path} is held by process ${pid || '?'} for more than 30 s`);
      else await sleep(20);
    }
  }
  try {
    await writeFile(join(path, 'pid'), String(process.pid));
    return await work();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

/** A size as a person reads it: kB under a megabyte, else MB. */
export function sizeOf(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
