import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type Options, type ResultPromise } from 'execa';

const ENTRY = resolve('bin/nfhot.js');

/** Runs the installed entry point, as a user would (from any working directory). */
export function nfhot<O extends Options = { env?: Record<string, string | undefined> }>(args: string[], options?: O) {
  return execa('node', [ENTRY, ...args], { reject: false, ...options } as O & { reject: false });
}

/** A line of a Node stack trace: never shown to a user. */
export const NO_STACK = /^\s+at /m;

/**
 * Waits until nfhot, run with NFHOT_TEST_STOP_AT, has stopped itself at that point. Fails if it
 * ends first (the point was never reached).
 */
export async function stopped(child: ResultPromise): Promise<void> {
  let ended = false;
  void child.finally(() => (ended = true)).catch(() => undefined);
  for (;;) {
    if (ended) throw new Error(`nfhot ended before its stop point: ${(await child).stderr}`);
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T') return;
    await sleep(20);
  }
}
