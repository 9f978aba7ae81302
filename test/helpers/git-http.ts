import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { execa } from 'execa';
import { onTestFinished } from 'vitest';
import { git, tempDir } from './repos.js';

export interface GitServer {
  /** URL of the repository with the credentials in it. */
  url: string;
  port: number;
}

function cgi(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const child = execa('git', ['http-backend'], {
    env: {
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'nfhot',
      REMOTE_ADDR: '127.0.0.1',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
    },
    encoding: 'buffer',
    input: req,
  });
  child.then(
    ({ stdout }) => {
      const data = Buffer.from(stdout);
      const split = data.indexOf('\r\n\r\n') >= 0 ? data.indexOf('\r\n\r\n') : data.indexOf('\n\n');
      const sep = data[split] === 13 ? 4 : 2;
      const headers = data.subarray(0, split).toString().split(/\r?\n/);
      let status = 200;
      for (const h of headers) {
        const [k, ...v] = h.split(':');
        if (!k) continue;
        if (k.toLowerCase() === 'status') status = Number.parseInt(v.join(':').trim(), 10);
        else res.setHeader(k, v.join(':').trim());
      }
      res.writeHead(status);
      res.end(data.subarray(split + sep));
    },
    () => res.writeHead(500).end(),
  );
}

/**
 * Serves a bare copy of `repoDir` on 127.0.0.1 over git's smart HTTP (git http-backend) or dumb
 * HTTP (static files), requiring HTTP basic auth with `user:token` (none for an empty token).
 * Stops when the test ends.
 */
export async function serveRepo(
  repoDir: string,
  token: string,
  mode: 'smart' | 'dumb' = 'smart',
  user = 'nfhot',
): Promise<GitServer> {
  const root = tempDir('nfhot-http-');
  await execa('git', ['clone', '-q', '--bare', repoDir, join(root, 'repo.git')]);
  await git(join(root, 'repo.git'), 'update-server-info');
  const expected = `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (token && req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="nfhot-test"' }).end();
      return;
    }
    if (mode === 'smart') return cgi(root, req, res);
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) return void res.writeHead(404).end();
    res.writeHead(200);
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${token ? `${user}:${token}@` : ''}127.0.0.1:${port}/repo.git`, port };
}
