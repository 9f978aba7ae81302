import { homedir } from 'node:os';
import { join } from 'node:path';

/** nfhot's cache on the host: fetched sources and probe results, safe to delete. */
export function cacheDir(): string {
  if (process.env.NFHOT_CACHE) return process.env.NFHOT_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nfhot');
}

/**
 * nfhot's state on the host: only the list of the includes it keeps (which files to rewrite). What
 * is patched is never here: the daemon holds that.
 */
export function stateDir(): string {
  if (process.env.NFHOT_STATE) return process.env.NFHOT_STATE;
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'nfhot');
}
