import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { inject, onTestFinished } from 'vitest';
import { lockKey } from '../../src/core/image/lock.js';

export async function docker(...args: string[]): Promise<string> {
  return (await execa('docker', args)).stdout;
}

export async function imageId(ref: string): Promise<string> {
  return docker('image', 'inspect', '--format', '{{.Id}}', ref);
}

export async function exists(ref: string): Promise<boolean> {
  return imageId(ref).then(
    () => true,
    () => false,
  );
}

/** What `docker run --rm IMAGE ARGS` prints (stdout), for checking the patched behaviour. */
export async function runIn(ref: string, ...args: string[]): Promise<string> {
  return (await execa('docker', ['run', '--rm', ref, ...args])).stdout.trim();
}

export async function rawInspect(
  ref: string,
): Promise<{ Id: string; Config: Record<string, unknown>; RootFS: { Layers: string[] } }> {
  return JSON.parse(await docker('image', 'inspect', ref))[0];
}

/** An image's labels less nfhot's own (io.nfhot.*): what a patch must leave as the original had them. */
export function withoutNfhotLabels(labels: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries((labels ?? {}) as Record<string, string>).filter(([k]) => !k.startsWith('io.nfhot.')),
  );
}

/** Every container nfhot left on the daemon (work, probe and lock containers), or those for one image reference. */
export async function nfhotContainers(image?: string): Promise<string[]> {
  const out = await docker('ps', '-a', '--format', '{{.Names}}');
  const key = image === undefined ? '' : lockKey(image);
  return out.split('\n').filter((n) => n.startsWith('nfhot-') && n.includes(key));
}

/**
 * A fresh tag of a fixture image, unique to the test (its own repository, so that everything
 * nfhot derives from it is easy to find), removed with all of nfhot's tags for it when the test ends.
 */
export async function fixtureTag(fixture: string, tag = 'dev'): Promise<string> {
  const source = inject('images')[fixture];
  if (!source) throw new Error(`no fixture image ${fixture}`);
  const repo = `nfhot-test-${randomBytes(5).toString('hex')}/${fixture}`;
  const ref = `${repo}:${tag}`;
  await docker('tag', source, ref);
  onTestFinished(() => cleanupRepo(repo, ref));
  return ref;
}

export async function cleanupRepo(repo: string, ...refs: string[]): Promise<void> {
  const key = new Set(refs.map((r) => lockKey(r)));
  const containers = (await docker('ps', '-a', '--format', '{{.Names}}'))
    .split('\n')
    .filter((n) => [...key].some((k) => n.includes(k)));
  if (containers.length) await execa('docker', ['rm', '-f', ...containers], { reject: false });
  // The repository (or a prefix of repositories), nfhot's references for it, and its copies pushed to a test registry.
  const ours = (t: string) => [`${repo}:`, `${repo}/`].some((p) => t.startsWith(p) || t.includes(`/${p}`));
  const tags = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n').filter(ours);
  if (tags.length) await execa('docker', ['rmi', ...tags], { reject: false });
}

/**
 * An image config as compared across a patch. Podman's commit (as `podman commit`) cannot leave
 * Cmd or Entrypoint null nor WorkingDir unset, and adds TERM=xterm and container=podman to the
 * environment (in its own order), which Podman sets in every container it runs anyway: under Podman these count as
 * unchanged; under Docker the config is compared as it is.
 */
export function comparable(config: Record<string, unknown>): Record<string, unknown> {
  if (process.env.NFHOT_TEST_ENGINE !== 'podman') return config;
  const empty = (v: unknown) => (Array.isArray(v) && v.length === 0 ? null : v);
  return {
    ...config,
    Cmd: empty(config.Cmd),
    Entrypoint: empty(config.Entrypoint),
    WorkingDir: config.WorkingDir === '/' ? '' : config.WorkingDir,
    Env: (config.Env as string[] | null)?.filter((e) => e !== 'TERM=xterm' && e !== 'container=podman').sort() ?? null,
  };
}
