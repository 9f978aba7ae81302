import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { answering } from './daemon.js';

export interface TestPodman {
  /** DOCKER_HOST (and CONTAINER_HOST) for its API service. */
  host: string;
  /** Runs the podman CLI on the same storage. */
  podman(...args: string[]): Promise<string>;
  /** How the podman CLI reaches the same storage (what a Nextflow run's `podman run` needs): global options and variables. */
  cli: { options: string[]; env: Record<string, string> };
  /** Copies images from the Docker daemon into Podman's storage; Podman names them localhost/NAME. */
  load(images: string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Podman's API service (`podman system service`) on its own socket and storage. Two settings make
 * its containers start on our machines: default ulimits no higher than the sandbox allows (Podman
 * raises RLIMIT_NOFILE/NPROC for rootful containers, which is refused here), and runc (crun does
 * not support the hybrid cgroup layout here). `insecure` registries may be spoken to over plain
 * HTTP, which Podman (unlike Docker) refuses even on 127.0.0.1. Stops by itself after 30 minutes.
 */
export async function startPodman(options: { insecure?: string[] } = {}): Promise<TestPodman> {
  const dir = mkdtempSync(join(tmpdir(), 'nfhot-podman-'));
  const env = {
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
  };
  writeFileSync(
    env.CONTAINERS_CONF,
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n',
  );
  writeFileSync(
    env.CONTAINERS_REGISTRIES_CONF,
    (options.insecure ?? []).map((r) => `[[registry]]\nlocation = "${r}"\ninsecure = true\n`).join(''),
  );
  const storage = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
  const host = `unix://${join(dir, 'podman.sock')}`;
  const service = execa('timeout', ['1800', 'podman', ...storage, 'system', 'service', '--time=0', host], {
    env,
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    cleanup: true,
  });
  await answering(host, service, 'the Podman service');
  const podman = async (...args: string[]) => (await execa('podman', [...storage, ...args], { env })).stdout;
  return {
    host,
    podman,
    cli: { options: storage, env },
    async load(images) {
      await execa('sh', ['-c', 'docker save "$@" | podman --root "$R" --runroot "$RR" load -q', 'sh', ...images], {
        env: { ...env, R: storage[1], RR: storage[3] },
      });
    },
    async stop() {
      service.kill('SIGTERM');
      await service;
      await podman('system', 'reset', '--force').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
