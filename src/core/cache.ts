import { homedir } from 'node:os';
import { join } from 'node:path';

/** nfhot's cache on the host: fetched sources and probe results. Never state: the daemon holds that. */
export function cacheDir(): string {
  if (process.env.NFHOT_CACHE) return process.env.NFHOT_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nfhot');
}
