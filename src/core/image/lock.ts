import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ContainerSummary, Engine } from '../ports/engine.js';
import { BusyError } from '../base/errors.js';
import { alive } from '../base/util.js';
import { hashHex } from './reference.js';

/**
 * One nfhot at a time per image reference. The lock is a container name — the daemon refuses a
 * second container of the same name, atomically, for every client of that daemon. It is created,
 * never started, and carries who holds it so that a crashed holder's lock can be taken back.
 *
 * Work containers cannot carry labels (commit would copy them into the image), so their holder
 * is in their name; a crashed run's work container is found by that, not through its lock
 * (which `docker container prune` may have removed meanwhile).
 */
const LOCK_PREFIX = 'nfhot-lock-';
const WORK_PREFIX = 'nfhot-work-';
/** The labels that say who holds a lock: io.nfhot.lock.host, .pid, .since, .image. */
const holderLabel = (what: 'host' | 'pid' | 'since' | 'image') => `io.nfhot.lock.${what}`;
const HOST = hostname().replace(/[^a-zA-Z0-9_.-]/g, '_');

export interface Lock {
  /** Name for this holder's work container. */
  workName: string;
  release(): Promise<void>;
}

export function lockKey(familiarRef: string): string {
  return hashHex('lock', familiarRef).slice(0, 20);
}

/** A holder on this machine whose process is gone. */
function gone(host: string | undefined, pid: string | undefined): boolean {
  const n = Number(pid);
  return host === HOST && Number.isInteger(n) && n > 0 && !alive(n);
}

/**
 * Runs `work` holding the lock of an image reference; the lock goes when it ends, however it
 * ends. The lock is a container made from `markerImageId` (an image the daemon has, which the
 * lock then keeps in use).
 */
export async function withLock<T>(
  engine: Engine,
  familiarRef: string,
  markerImageId: string,
  work: (lock: Lock) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(engine, familiarRef, markerImageId);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}

/** Labels that let a later run tell whether the process that made a container is gone. */
export function holderLabels(): Record<string, string> {
  return {
    [holderLabel('host')]: HOST,
    [holderLabel('pid')]: String(process.pid),
    [holderLabel('since')]: new Date().toISOString(),
  };
}

/** A throwaway container (a probe) is named under nfhot's prefix and carries holderLabels: the reaper finds it if its run is killed. */
export function throwawayName(purpose: string): string {
  return `nfhot-${purpose}-${randomBytes(6).toString('hex')}`;
}

function isStale(c: ContainerSummary): boolean {
  if (c.name.startsWith(WORK_PREFIX)) {
    const [, host, pid] = /^[0-9a-f]+-(.+)-(\d+)$/.exec(c.name.slice(WORK_PREFIX.length)) ?? [];
    return gone(host, pid);
  }
  return gone(c.labels[holderLabel('host')], c.labels[holderLabel('pid')]);
}

export async function acquireLock(engine: Engine, familiarRef: string, markerImageId: string): Promise<Lock> {
  const key = lockKey(familiarRef);
  const name = LOCK_PREFIX + key;
  const labels = { ...holderLabels(), [holderLabel('image')]: familiarRef };
  for (let attempt = 0; attempt < 6; attempt++) {
    // The name stays taken while the daemon removes a released or stale lock (reap may be at it too).
    if (attempt > 0) await sleep(25 * 2 ** attempt);
    const id = await engine.createMarker(name, markerImageId, labels);
    // Released by ID: if a prune removed it meanwhile and another run took the name, that lock stays.
    if (id)
      return { workName: `${WORK_PREFIX}${key}-${HOST}-${process.pid}`, release: () => engine.removeContainer(id) };
    const [holder] = await engine.listContainers(name);
    if (!holder) continue; // released between our two calls
    if (isStale(holder)) {
      await engine.removeContainer(holder.id);
      continue;
    }
    const who = `pid ${holder.labels[holderLabel('pid')] ?? '?'} on ${holder.labels[holderLabel('host')] ?? '?'}`;
    throw new BusyError(
      `busy: another nfhot (${who}, since ${holder.labels[holderLabel('since')] ?? '?'}) is changing ${familiarRef}`,
      `wait for it to finish and retry; if that process is gone, remove its lock: docker rm -f ${name}`,
    );
  }
  throw new BusyError(`busy: could not take the lock for ${familiarRef}`, 'retry in a moment');
}

/** Removes what crashed runs on this machine left: their locks, probes and work containers. */
export async function reap(engine: Engine): Promise<string[]> {
  const stale = (await engine.listContainers('nfhot-')).filter(isStale);
  for (const c of stale) await engine.removeContainer(c.id);
  return stale.map((c) => c.name);
}
