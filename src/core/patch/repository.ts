import { fileURLToPath } from 'node:url';
import type { Context } from '../base/context.js';
import { UserError } from '../base/errors.js';
import { probeImage } from '../interpreter/probe.js';
import { repositoryOf } from '../interpreter/python.js';
import { normalizeName } from '../image/record.js';
import { isDirectory } from '../base/util.js';
import type { Target } from './plan.js';

/** A file:// repository recorded inside an image may not exist on this machine. */
function reachable(url: string): boolean {
  return !url.startsWith('file://') || isDirectory(fileURLToPath(url));
}

/** NAME@REF without --repo: the repository recorded by the distribution installed in the images. */
export async function discoverRepository(
  ctx: Context,
  targets: Target[],
  name: string,
  python: string | undefined,
): Promise<string> {
  for (const t of targets) {
    // The tagged image first: a patched one records where its patch came from.
    for (const image of t.current.id === t.original.id ? [t.current] : [t.current, t.original]) {
      for (const env of await probeImage(ctx.engine, image, t.ref.familiar, normalizeName(name), python)) {
        const url = env.dist && repositoryOf(env.dist);
        if (url && reachable(url)) {
          ctx.report.info(`${name}: repository ${url} (from its metadata in ${t.ref.familiar})`);
          return url;
        }
      }
    }
  }
  throw new UserError(
    `cannot tell where ${name}'s repository is: its metadata in ${targets.map((t) => t.ref.familiar).join(', ')} names none that nfhot can reach`,
    `give it: nfhot patch ${name}@REF --repo URL, or nfhot patch git+URL@REF`,
  );
}
