import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialsFor as lookup } from '../../../src/adapters/docker/auth.js';
import { execaPrograms } from '../../../src/adapters/programs.js';
import { tempDir } from '../../helpers/repos.js';

const credentialsFor = (registry: string) => lookup(registry, execaPrograms);
afterEach(() => void vi.unstubAllEnvs());

/** A Docker config directory with this config.json, and a credential helper `fake` on PATH. */
function setup(config: object): void {
  const dir = tempDir('nfhot-docker-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  // The helper answers for one server only, as docker-credential-* helpers do (exit 1 otherwise).
  writeFileSync(
    join(dir, 'docker-credential-fake'),
    '#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = helped.example.org ] || { echo "credentials not found in native keychain"; exit 1; }\necho \'{"ServerURL":"helped.example.org","Username":"robot","Secret":"from-helper"}\'\n',
  );
  chmodSync(join(dir, 'docker-credential-fake'), 0o755);
  vi.stubEnv('DOCKER_CONFIG', dir);
  vi.stubEnv('PATH', `${dir}:${process.env.PATH}`);
}

describe('credentialsFor', () => {
  it('reads the base64 auth of config.json, for a registry or Docker Hub', async () => {
    setup({
      auths: {
        'registry.example.org': { auth: Buffer.from('me:pa:ss').toString('base64') },
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
      },
    });
    expect(await credentialsFor('registry.example.org')).toEqual({
      username: 'me',
      password: 'pa:ss',
      serveraddress: 'registry.example.org',
    });
    expect(await credentialsFor('docker.io')).toEqual({
      username: 'hub',
      password: 'pw',
      serveraddress: 'https://index.docker.io/v1/',
    });
    expect(await credentialsFor('other.example.org')).toBeUndefined();
  });

  it('asks the credential helper named for the registry, or the store, and falls back to auths', async () => {
    setup({ credHelpers: { 'helped.example.org': 'fake' }, auths: { 'token.example.org': { identitytoken: 'tok' } } });
    expect(await credentialsFor('helped.example.org')).toEqual({
      username: 'robot',
      password: 'from-helper',
      serveraddress: 'helped.example.org',
    });
    expect(await credentialsFor('token.example.org')).toEqual({
      identitytoken: 'tok',
      serveraddress: 'token.example.org',
    });
    setup({ credsStore: 'fake', auths: { 'plain.example.org': { auth: Buffer.from('u:p').toString('base64') } } });
    expect(await credentialsFor('helped.example.org')).toMatchObject({ username: 'robot' });
    expect(await credentialsFor('plain.example.org')).toMatchObject({ username: 'u', password: 'p' });
  });

  it('is undefined without a Docker config', async () => {
    vi.stubEnv('DOCKER_CONFIG', tempDir('nfhot-no-config-'));
    expect(await credentialsFor('registry.example.org')).toBeUndefined();
  });
});
