import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Programs } from '../../core/ports/programs.js';

/** What the Engine API takes as X-Registry-Auth. */
export interface AuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker Hub is keyed by its v1 index URL in Docker's config. */
const keysOf = (registry: string) =>
  registry === '' || registry === 'docker.io'
    ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io']
    : [registry, `https://${registry}`, `http://${registry}`];

/**
 * The credentials the user already has for a registry, read as the docker CLI reads them: a
 * credential helper (per registry, else the store), else the base64 `auth` in config.json.
 * Undefined when there are none (the push is then anonymous).
 */
export async function credentialsFor(registry: string, programs: Programs): Promise<AuthConfig | undefined> {
  let config: DockerConfig;
  try {
    config = JSON.parse(
      await readFile(join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'), 'utf8'),
    ) as DockerConfig;
  } catch {
    return undefined;
  }
  const serveraddress = keysOf(registry)[0]!;
  const helper = config.credHelpers?.[registry] ?? config.credsStore;
  if (helper) {
    const answer = await programs.run(`docker-credential-${helper}`, ['get'], { input: serveraddress });
    if (answer.exitCode === 0) {
      const { Username, Secret } = JSON.parse(answer.stdout) as { Username: string; Secret: string };
      return Username === '<token>'
        ? { identitytoken: Secret, serveraddress }
        : { username: Username, password: Secret, serveraddress };
    }
  }
  const entry = keysOf(registry)
    .map((k) => config.auths?.[k])
    .find(Boolean);
  if (entry?.identitytoken) return { identitytoken: entry.identitytoken, serveraddress };
  if (entry?.auth) {
    const [username = '', ...rest] = Buffer.from(entry.auth, 'base64').toString('utf8').split(':');
    return { username, password: rest.join(':'), serveraddress };
  }
  return undefined;
}
