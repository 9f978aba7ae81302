import { describe, expect, it } from 'vitest';
import { derivativeRef, keeperRef, parseImageRef, pushedRef } from '../../../src/core/image/reference.js';

describe('parseImageRef', () => {
  it.each([
    ['org/tool:dev', { domain: '', path: 'org/tool', tag: 'dev', familiar: 'org/tool:dev' }],
    ['ubuntu', { domain: '', path: 'ubuntu', tag: 'latest', familiar: 'ubuntu:latest' }],
    ['docker.io/library/ubuntu:22.04', { domain: '', path: 'ubuntu', familiar: 'ubuntu:22.04' }],
    ['docker.io/org/tool:1', { domain: '', familiar: 'org/tool:1' }],
    [
      'quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
      { domain: 'quay.io', path: 'biocontainers/fastqc', tag: '0.12.1--hdfd78af_0' },
    ],
    ['localhost:5000/x:t', { domain: 'localhost:5000', path: 'x', tag: 't' }],
    ['localhost/foo:tag', { domain: 'localhost', path: 'foo' }],
    [
      'community.wave.seqera.io/library/fastqc:0.12.1--af7a5314d5015c29',
      { domain: 'community.wave.seqera.io', path: 'library/fastqc' },
    ],
  ])('reads %s as Docker does', (input, expected) => {
    expect(parseImageRef(input)).toMatchObject(expected);
  });

  it.each([
    ['', /empty/],
    ['Org/Tool:dev', /not a valid repository name component/],
    ['org//tool', /empty path component/],
    ['org/tool:bad tag', /whitespace/],
    ['org/tool:-bad', /tag "-bad" is not valid/],
    [`org/${'a'.repeat(300)}`, /longer than 255/],
    ['org/tool:x\ny', /whitespace or control/],
  ])('refuses %j', (input, message) => {
    expect(() => parseImageRef(input)).toThrow(message);
  });

  it('refuses a digest: it cannot be re-pointed', () => {
    expect(() => parseImageRef(`org/tool@sha256:${'a'.repeat(64)}`)).toThrow(/digest/);
  });
});

describe('nfhot references', () => {
  const ref = parseImageRef('quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0');

  it('are absolute for Nextflow and valid for Docker', () => {
    for (const r of [derivativeRef(ref, 'ab'.repeat(32)), keeperRef(ref)]) {
      expect(r.split('/')[0]).toMatch(/[.:]/);
      expect(() => parseImageRef(r)).not.toThrow();
    }
    expect(derivativeRef(ref, 'ab'.repeat(32))).toBe(
      'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-abababababab',
    );
    expect(keeperRef(ref)).toBe('nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-original');
  });

  it('differ by key, and stay valid for the longest tags and registries with a port', () => {
    const long = parseImageRef(`localhost:5000/x:${'t'.repeat(128)}`);
    const a = derivativeRef(long, '1'.repeat(64));
    const b = derivativeRef(long, '2'.repeat(64));
    // Shortened to 128 characters, with a hash of the whole tag so that long tags stay apart.
    expect(a).toMatch(/^nfhot\.local\/localhost-5000\/x:t{106}-[0-9a-f]{8}-1{12}$/);
    expect(b).toBe(a.replace(/1{12}$/, '2'.repeat(12)));
    expect(keeperRef(long)).toMatch(/^nfhot\.local\/localhost-5000\/x:t{110}-[0-9a-f]{8}-original$/);
    for (const ref of [a, keeperRef(long)]) expect(parseImageRef(ref).familiar).toBe(ref);
  });
});

describe('pushedRef', () => {
  it('puts one repository per original image under the registry (and prefix), one tag per patch set', () => {
    expect(
      pushedRef('nfhot.local/quay.io/biocontainers/fastqc:0.12.1-aaaaaaaaaaaa', 'registry.example.org/team/'),
    ).toBe('registry.example.org/team/quay.io/biocontainers/fastqc:0.12.1-aaaaaaaaaaaa');
    expect(pushedRef('nfhot.local/org/tool:dev-bbbbbbbbbbbb', '127.0.0.1:5000')).toBe(
      '127.0.0.1:5000/org/tool:dev-bbbbbbbbbbbb',
    );
    expect(pushedRef('nfhot.local/org/tool:dev-bbbbbbbbbbbb', '123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/tool:dev-bbbbbbbbbbbb',
    );
  });

  it('wants a registry host, without a scheme, that makes a valid reference', () => {
    expect(() => pushedRef('nfhot.local/org/tool:dev-b', 'https://registry.example.org')).toThrow(/without a scheme/);
    expect(() => pushedRef('nfhot.local/org/tool:dev-b', 'team/sub')).toThrow(/team is not a registry host/);
    expect(() => pushedRef('nfhot.local/org/tool:dev-b', 'registry.example.org/Bad Prefix')).toThrow(
      /invalid registry/,
    );
  });
});
