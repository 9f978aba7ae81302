import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';

export interface TestDaemon {
  /** DOCKER_HOST for it. */
  host: string;
  /** The file system its data root is on. */
  dataRoot: string;
  stop(): Promise<void>;
}

const BRIDGE = 'nfhot-t0';

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
 * A second Docker daemon whose data root is a tmpfs of `size` (e.g. "1g"), on its own socket
 * and bridge (not `--bridge none`, which would delete the main daemon's docker0). It stops by
 * itself after 15 minutes should the test never stop it.
 */
export async function startTestDaemon(size: string): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nfhot-daemon-'));
  const dataRoot = join(dir, 'root');
  const sh = (...args: string[]) => execa(args[0]!, args.slice(1));
  await sh('mkdir', '-p', dataRoot);
  await sh('mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dataRoot);
  await sh('ip', 'link', 'add', BRIDGE, 'type', 'bridge').catch(() => undefined); // left by an earlier run
  await execa('sh', ['-c', `ip addr add 172.31.254.1/24 dev ${BRIDGE} 2>/dev/null; ip link set ${BRIDGE} up`]);
  const host = `unix://${join(dir, 'docker.sock')}`;
  const args = ['--data-root', join(dataRoot, 'data'), '--exec-root', join(dir, 'exec'), '--host', host, '--pidfile', join(dir, 'pid'), '--bridge', BRIDGE, '--iptables=false', '--ip-masq=false', '--storage-driver', 'overlay2'];
  const daemon = execa('timeout', ['900', 'dockerd', ...args], { reject: false, stdio: ['ignore', 'ignore', 'pipe'], cleanup: true });
  await answering(host, daemon, 'the test daemon');
  return {
    host,
    dataRoot,
    async stop() {
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await daemon;
      await execa('umount', [dataRoot]).catch(() => undefined);
      await execa('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
