import { describe, expect, it } from 'vitest';
import { describeSource, parseSource } from '../../../src/core/source/source.js';

const dirs = new Set(['./pkg', '/abs/pkg', 'pkg']);
const isDir = (p: string) => dirs.has(p);

describe('parseSource', () => {
  it.each([
    ['git+https://github.com/org/pkg.git@main', { kind: 'git', url: 'https://github.com/org/pkg.git', ref: 'main' }],
    [
      'git+https://user:tok@host.org/org/pkg.git@fix/bug-1',
      {
        kind: 'git',
        url: 'https://user:tok@host.org/org/pkg.git',
        displayUrl: 'https://host.org/org/pkg.git',
        ref: 'fix/bug-1',
      },
    ],
    [
      'git+ssh://git@github.com/org/pkg.git@v1.2',
      {
        kind: 'git',
        url: 'ssh://git@github.com/org/pkg.git',
        displayUrl: 'ssh://git@github.com/org/pkg.git',
        ref: 'v1.2',
      },
    ],
    ['git+git@github.com:org/pkg.git@3f2a9c1', { kind: 'git', url: 'git@github.com:org/pkg.git', ref: '3f2a9c1' }],
    ['git+file:///srv/pkg.git@main', { kind: 'git', url: 'file:///srv/pkg.git', ref: 'main' }],
    ['git+/srv/pkg@main', { kind: 'git', url: '/srv/pkg', ref: 'main' }],
    [
      'git+https://host.org/mono.git@main#subdirectory=python/pkg',
      { kind: 'git', url: 'https://host.org/mono.git', subdirectory: 'python/pkg' },
    ],
    ['git+https://host.org/pkg.git', { kind: 'git', url: 'https://host.org/pkg.git' }],
    ['./pkg', { kind: 'dir', path: './pkg' }],
    ['pkg', { kind: 'dir', path: 'pkg' }],
    ['my_pkg.core@fix', { kind: 'name', name: 'my_pkg.core', ref: 'fix' }],
  ])('reads %s', (spec, expected) => {
    expect(parseSource(spec, isDir)).toMatchObject(expected);
  });

  it.each([
    ['', /empty/],
    ['@', /cannot read source/],
    ['pkg@', /invalid ref "" .*empty/],
    ['git+@x', /no repository URL/],
    ['git+https://h/p.git@', /invalid ref/],
    ['pkg@-x', /starts with "-"/],
    ['pkg@--upload-pack=touch /tmp/x', /starts with "-"/],
    ['git+https://h/p.git@--upload-pack=evil', /starts with "-"/],
    ['pkg@a;rm -rf /', /it contains a space, control character/],
    ['pkg@$(id)', /shell metacharacters/],
    ['pkg@br anch', /space/],
    ['pkg@a\nb', /control/],
    ['pkg@..', /not a valid git ref/],
    ['git+https://h/p.git#subdirectory=../x', /relative path inside/],
    ['./missing', /no such directory/],
    ['git+-oProxyCommand=x@main', /no repository URL/],
  ])('refuses %j with a clear message', (spec, message) => {
    expect(() => parseSource(spec, isDir)).toThrow(message);
  });

  it('shows a source without its credentials', () => {
    expect(describeSource(parseSource('git+https://user:s3cret@host.org/p.git@main', isDir))).toBe(
      'git+https://host.org/p.git@main',
    );
  });
});
