import { describe, expect, it } from 'vitest';
import { redact, stripCredentials } from '../../../src/core/base/redact.js';

describe('credentials', () => {
  it('are stripped from https URLs, user name included (it is often a token)', () => {
    expect(stripCredentials('https://x-token-auth:abc123@host.org/r.git')).toBe('https://host.org/r.git');
    expect(stripCredentials('https://ghp_TOKEN0123456789abcdef@github.com/o/r')).toBe('https://github.com/o/r');
    expect(redact('token ghp_TOKEN0123456789abcdef')).toBe('token ***');
  });

  it('do not redact a short user name everywhere: it is a name, not a token', () => {
    stripCredentials('https://git@host.org/r.git');
    expect(redact('git+https://host.org/r.git')).toBe('git+https://host.org/r.git');
  });

  it('keep the ssh user, which is not a secret', () => {
    expect(stripCredentials('ssh://git@host.org/r.git')).toBe('ssh://git@host.org/r.git');
  });

  it('are redacted wherever they appear once seen, plain or percent-encoded', () => {
    stripCredentials('https://me:p%40ss-w0rd@host.org/r.git');
    expect(redact('fatal: Authentication failed for p@ss-w0rd and p%40ss-w0rd')).toBe(
      'fatal: Authentication failed for *** and ***',
    );
    expect(redact('see http://u:pw123@h/x')).toBe('see http://h/x');
  });
});
