import Docker from 'dockerode';
import { UsageError } from '../../core/base/errors.js';
import { DockerodeEngine } from './dockerode.js';
import type { Engine, EngineName } from '../../core/ports/engine.js';
import type { Programs } from '../../core/ports/programs.js';
import { dockerAddress, within } from './io.js';
import { PodmanEngine } from './podman.js';

/** Where Podman's API service listens: CONTAINER_HOST (as for podman --remote), else its socket for this user. */
function podmanAddress(): string {
  if (process.env.CONTAINER_HOST) return process.env.CONTAINER_HOST;
  const rootless = process.getuid?.() !== 0 && process.env.XDG_RUNTIME_DIR;
  return `unix://${rootless ? `${process.env.XDG_RUNTIME_DIR}/podman` : '/run/podman'}/podman.sock`;
}

function client(address: string): Docker {
  if (address.startsWith('unix://')) return new Docker({ socketPath: address.slice('unix://'.length) });
  const tcp = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(address);
  if (tcp) return new Docker({ host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) });
  throw new UsageError(
    `cannot use Podman at ${address}: nfhot speaks to unix:// and tcp:// addresses`,
    'set CONTAINER_HOST=unix:///path/to/podman.sock',
  );
}

/**
 * Whether the service at the other end is Podman's: it answers Podman's own ping (Docker's says
 * 404 at once; its /version, which runs runc and docker-init to say theirs, takes 10-20 ms more).
 * False when it does not answer: the adapter's ping says why.
 */
async function isPodman(docker: Docker): Promise<boolean> {
  const pinged = new Promise<boolean>((resolve) =>
    docker.modem.dial({ path: '/libpod/_ping', method: 'GET', statusCodes: { 200: true } }, (err) => resolve(!err)),
  );
  return (await within(pinged, 3_000)) ?? false;
}

/** The engine to talk to: the one asked for, else whatever answers at DOCKER_HOST (or Docker's socket), Docker or Podman. */
export async function connect(name: EngineName | undefined, programs: Programs): Promise<Engine> {
  if (name === 'podman') {
    const address = podmanAddress();
    return new PodmanEngine(client(address), programs, address, 'podman');
  }
  const docker = new Docker();
  if (name === undefined && (await isPodman(docker))) return new PodmanEngine(docker, programs, dockerAddress());
  return new DockerodeEngine(docker, programs);
}
