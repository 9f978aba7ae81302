import { existsSync, readFileSync } from 'node:fs';

/** The package's root: where package.json is, above this module (in src/ or in the bundle in dist/). */
function packageRoot(): URL {
  let dir = new URL('.', import.meta.url);
  while (!existsSync(new URL('package.json', dir)) && dir.pathname !== '/') dir = new URL('..', dir);
  return dir;
}

/** The scripts nfhot runs inside images, shipped in src/python. */
function asset(name: string): () => string {
  let text: string | undefined;
  return () => (text ??= readFileSync(new URL(`src/python/${name}`, packageRoot()), 'utf8'));
}

export const probeSh = asset('probe.sh');
export const probePy = asset('probe.py');
export const installPy = asset('install.py');
