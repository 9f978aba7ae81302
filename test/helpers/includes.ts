import { expect } from 'vitest';
import { nfhot } from './cli.js';
import { exists } from './docker.js';

interface Kept {
  path: string;
  engine: string;
  references?: string[];
}

/**
 * The invariant of every include nfhot keeps, checked as a user would see it: each container
 * reference it gives exists in the daemon (or is a pushed copy, pinned by digest) and is what
 * `nfhot status` says is patched. Returns the kept includes, for more checks. The includes are
 * read before `status` runs (status repairs one a killed run left stale).
 */
export async function expectIncludesTrue(env: Record<string, string> = {}): Promise<Kept[]> {
  const list = await nfhot(['config', '--list', '--json'], { env });
  expect(list.exitCode, list.stderr).toBe(0);
  const includes = (JSON.parse(list.stdout) as { includes: Kept[] }).includes;
  const status = await nfhot(['status', '--json'], { env });
  expect(status.exitCode, status.stderr).toBe(0);
  const patched = (
    JSON.parse(status.stdout) as { images: { state: string; derivative?: string; pushed?: string[] }[] }
  ).images.filter((s) => s.state === 'patched');
  const live = patched.flatMap((s) => [s.derivative!, ...(s.pushed ?? [])]);
  for (const k of includes) {
    for (const reference of k.references ?? []) {
      // With docker.registryOverride the include puts the registry in front of the derivative's name.
      expect(
        live.some((l) => reference === l || reference.endsWith(`/${l}`)),
        `${k.path} names ${reference}, which nfhot status does not give`,
      ).toBe(true);
      if (!reference.includes('@sha256:'))
        expect(await exists(reference), `${k.path} names ${reference}, which the daemon does not have`).toBe(true);
    }
  }
  return includes;
}
