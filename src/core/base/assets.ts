import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package's root: where package.json is, above this module (in src/ or in the bundle in dist/). */
function packageRoot(): URL {
  let dir = new URL('.', import.meta.url);
  while (!existsSync(new URL('package.json', dir)) && dir.pathname !== '/') dir = new URL('..', dir);
  return dir;
}

/** The absolute path of a file or directory shipped with the package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(relative, packageRoot()));
}

/** This nfhot's version (package.json's). */
const packageJson = (() => {
  let json: { version: string; nfhot: { pluginRequires: string } } | undefined;
  return () =>
    (json ??= JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as {
      version: string;
      nfhot: { pluginRequires: string };
    });
})();

export const packageVersion = () => packageJson().version;

/** The Nextflow versions nf-hot loads on, as its manifest's Plugin-Requires says (package.json's nfhot.pluginRequires). */
export const pluginRequires = () => packageJson().nfhot.pluginRequires;

/** A text file shipped with the package, read once. */
function asset(relative: string): () => string {
  let text: string | undefined;
  return () => (text ??= readFileSync(packagePath(relative), 'utf8'));
}

/** The scripts nfhot runs inside images. */
export const probeSh = asset('src/python/probe.sh');
export const probePy = asset('src/python/probe.py');
export const bootPy = asset('src/python/boot.py');
export const inventoryPy = asset('src/python/inventory.py');

/** Where nfhot.pyz is: the zipapp of src/python/nfhot_install (the install, the build), which the build makes. */
export function zipappPath(): string {
  const path = packagePath('dist/nfhot.pyz');
  if (!existsSync(path)) throw new Error(`${path} is missing: npm run build makes it`);
  return path;
}

/** nfhot.pyz's bytes, read once (the work container gets them with the sources). */
export const zipapp = (() => {
  let bytes: Buffer | undefined;
  return () => (bytes ??= readFileSync(zipappPath()));
})();

/** The include nfhot writes into a pipeline, as it is when nothing is patched. */
export const includeTemplate = asset('nextflow/nfhot.config');
