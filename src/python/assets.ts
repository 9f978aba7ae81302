import { readFileSync } from 'node:fs';

/** The scripts nfhot runs inside images, shipped beside this module. */
function asset(name: string): () => string {
  let text: string | undefined;
  return () => (text ??= readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'));
}

export const probeSh = asset('probe.sh');
export const probePy = asset('probe.py');
export const installPy = asset('install.py');
