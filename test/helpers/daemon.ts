import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { alive } from '../../src/core/base/util.js';

export interface TestDaemon {
  /** DOCKER_HOST for it. */
  host: string;
  /** The file system its data root is on. */
  dataRoot: string;
  stop(): Promise<void>;
}

/** Waits (30 s at most) until the Docker API at `host`, served by `server`, answers; else stops it and fails with its last words. */
export async function answering(host: string, server: ResultPromise, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    if ((await execa('docker', ['version'], { env: { DOCKER_HOST: host }, reject: false })).exitCode === 0) return;
    if (i > 120 || server.exitCode !== null) {
      server.kill();
      throw new Error(`${what} did not start: ${String((await server).stderr).slice(-2000)}`);
    }
    await sleep(250);
  }
}

/**
 * A bridge of its own for a test daemon: `nfhot-t<n>` on 172.31.<250-n>.1/24, the first n no
 * other test daemon holds (test files run in parallel). One an earlier run left is reused.
 */
async function ownBridge(): Promise<string> {
  for (let n = 0; n < 8; n++) {
    const bridge = `nfhot-t${n}`;
    const lock = join(tmpdir(), `${bridge}.lock`);
    try {
      mkdirSync(lock);
    } catch {
      const pid = Number(readFileSync(join(lock, 'pid'), 'utf8').trim() || '0');
      if (pid && pid !== process.pid && !alive(pid)) rmSync(lock, { recursive: true, force: true });
      continue;
    }
    writeFileSync(join(lock, 'pid'), String(process.pid));
    await execa('ip', ['link', 'add', bridge, 'type', 'bridge']).catch(() => undefined); // left by an earlier run
    await execa('sh', ['-c', `ip addr add 172.31.${250 - n}.1/24 dev ${bridge} 2>/dev/null; ip link set ${bridge} up`]);
    return bridge;
  }
  throw new Error('no free bridge for a test daemon');
}

/**
 * A Docker daemon of the test's own, whose data root is a tmpfs of `size` (e.g. "1g"), on its
 * own socket and bridge (not `--bridge none`, which would delete the main daemon's docker0):
 * what a test does to it (fill its disk, prune it) touches nobody's images. It stops by itself
 * after 15 minutes should the test never stop it. `images` are copied in from the main daemon.
 */
export async function startTestDaemon(size: string, images: string[] = []): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nfhot-daemon-'));
  const dataRoot = join(dir, 'root');
  const sh = (...args: string[]) => execa(args[0]!, args.slice(1));
  await sh('mkdir', '-p', dataRoot);
  await sh('mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dataRoot);
  const BRIDGE = await ownBridge();
  const host = `unix://${join(dir, 'docker.sock')}`;
  const args = [
    '--data-root',
    join(dataRoot, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--host',
    host,
    '--pidfile',
    join(dir, 'pid'),
    '--bridge',
    BRIDGE,
    '--iptables=false',
    '--ip-masq=false',
    '--storage-driver',
    'overlay2',
  ];
  const daemon = execa('timeout', ['900', 'dockerd', ...args], {
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    cleanup: true,
  });
  await answering(host, daemon, 'the test daemon');
  for (const image of images)
    await execa('sh', ['-c', 'docker save "$1" | DOCKER_HOST="$2" docker load -q', 'load', image, host]);
  return {
    host,
    dataRoot,
    async stop() {
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await daemon;
      await execa('umount', [dataRoot]).catch(() => undefined);
      await execa('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
      rmSync(join(tmpdir(), `${BRIDGE}.lock`), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
