import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

export interface TestRegistry {
  /** host:port on 127.0.0.1. */
  host: string;
  /** Where it stores blobs and manifests (what a push uploaded is measured there). */
  dataDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Debian's docker-registry (the Distribution registry) on 127.0.0.1 and a free port, storing in
 * a temporary directory; with `auth`, it wants that user (htpasswd, bcrypt). It stops by itself
 * after `seconds` (15 minutes) should the test never stop it.
 */
export async function startRegistry({
  auth,
  seconds = 900,
}: {
  auth?: { user: string; password: string };
  seconds?: number;
} = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'nfhot-registry-'));
  const port = await freePort();
  let authConfig = '';
  if (auth) {
    await execa('htpasswd', ['-Bbc', join(dir, 'htpasswd'), auth.user, auth.password]);
    authConfig = `auth:\n  htpasswd:\n    realm: nfhot-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authConfig}`,
  );
  const server = execa('timeout', [String(seconds), 'docker-registry', 'serve', join(dir, 'config.yml')], {
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    cleanup: true,
  });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const answer = await fetch(`http://${host}/v2/`).catch(() => undefined);
    if (answer) break;
    if (i > 100 || server.exitCode !== null)
      throw new Error(`the test registry did not start: ${(await server).stderr.slice(-2000)}`);
    await sleep(100);
  }
  return {
    host,
    dataDir: join(dir, 'data'),
    async stop() {
      server.kill('SIGTERM');
      await server;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
