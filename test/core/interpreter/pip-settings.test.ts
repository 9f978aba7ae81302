import { describe, expect, it } from 'vitest';
import { hostPipSettings } from '../../../src/core/interpreter/pip-settings.js';

describe('hostPipSettings', () => {
  const files = (map: Record<string, string>) => (file: string) => map[file];

  it("reads pip's files as pip does ([install] over [global], later files over earlier), the variables over all", () => {
    const read = files({
      '/etc/pip.conf': '[global]\nindex-url = https://global.example/simple\ntrusted-host = global.example\n',
      '/home/u/.config/pip/pip.conf':
        '[global]\nindex_url = https://user.example/simple\nextra-index-url =\n    https://a.example/simple\n    https://b.example/simple\n[install]\ntimeout = 30\n[download]\nindex-url = https://ignored.example/simple\n',
    });
    const s = hostPipSettings(
      { HOME: '/home/u', XDG_CONFIG_HOME: '/home/u/.config', PIP_TRUSTED_HOST: 'env.example' },
      read,
    );
    expect(s.env).toEqual({
      PIP_INDEX_URL: 'https://user.example/simple',
      PIP_TRUSTED_HOST: 'env.example',
      PIP_EXTRA_INDEX_URL: 'https://a.example/simple https://b.example/simple',
      PIP_TIMEOUT: '30',
    });
    expect(s.said).toContain('index-url https://user.example/simple (/home/u/.config/pip/pip.conf)');
    expect(s.loopback).toEqual([]);
  });

  it('an existing PIP_CONFIG_FILE replaces the user files; paths are not handed, loopback is said, credentials never', () => {
    const s = hostPipSettings(
      {
        PIP_CONFIG_FILE: '/dev/null',
        PIP_INDEX_URL: 'http://me:s3cret@127.0.0.1:3141/root/pypi/+simple/',
        PIP_FIND_LINKS: '/opt/wheels https://wheels.example/',
      },
      files({}),
    );
    expect(s.env).toEqual({
      PIP_INDEX_URL: 'http://me:s3cret@127.0.0.1:3141/root/pypi/+simple/',
      PIP_FIND_LINKS: 'https://wheels.example/',
    });
    expect(s.loopback).toEqual(['127.0.0.1']);
    expect(s.said.join(' ')).not.toContain('s3cret');
    expect(s.skipped).toEqual(['find-links /opt/wheels (PIP_FIND_LINKS: a path on this machine)']);
  });
});
