import { describe, expect, it } from 'vitest';
import { commitChanges, configMismatch, familiarName } from '../../../src/adapters/docker/podman.js';

describe('Podman names', () => {
  it('reads the names Podman lists as Docker names them', () => {
    expect(familiarName('docker.io/org/tool:dev')).toBe('org/tool:dev');
    expect(familiarName('docker.io/library/debian:bookworm')).toBe('debian:bookworm');
    expect(familiarName('localhost/tool:dev')).toBe('tool:dev'); // the podman CLI's name for a short name
    expect(familiarName('quay.io/biocontainers/fastqc:0.12.1')).toBe('quay.io/biocontainers/fastqc:0.12.1');
    expect(familiarName('localhost:5000/x:1')).toBe('localhost:5000/x:1');
    expect(familiarName('nfhot.local/org/tool:dev-0123456789ab')).toBe('nfhot.local/org/tool:dev-0123456789ab');
    expect(familiarName(`127.0.0.1:5000/team/org/tool@sha256:${'a'.repeat(64)}`)).toBe(
      `127.0.0.1:5000/team/org/tool@sha256:${'a'.repeat(64)}`,
    );
    expect(familiarName(`docker.io/org/tool@sha256:${'b'.repeat(64)}`)).toBe(`org/tool@sha256:${'b'.repeat(64)}`);
  });
});

describe('Podman commit changes', () => {
  it('give the command, user, working directory and every label, values verbatim inside one pair of quotes', () => {
    const patches = JSON.stringify([{ package: 'greet', source: '/home/a "b"/c d', at: 'x' }]);
    expect(
      commitChanges({
        Entrypoint: ['/entry.sh'],
        Cmd: ['greet', '--all'],
        User: '1000:1000',
        WorkingDir: '/data',
        Labels: { 'io.nfhot.patches': patches, 'org.x': '"quoted"' },
      }),
    ).toEqual([
      'ENTRYPOINT ["/entry.sh"]',
      'CMD ["greet","--all"]',
      'USER 1000:1000',
      'WORKDIR /data',
      `LABEL io.nfhot.patches="${patches}"`,
      'LABEL org.x=""quoted""',
    ]);
  });

  it('clear Cmd and Entrypoint an image does not have (the work container has the install command there)', () => {
    expect(commitChanges({ Cmd: null, Entrypoint: null, Labels: null })).toEqual(['ENTRYPOINT []', 'CMD []']);
  });

  it('a commit that lost part of the config is found; an empty list is as good as none, added environment is allowed', () => {
    const wanted = { Cmd: ['greet'], Entrypoint: null, User: 'app', Labels: { a: '1' }, Env: ['PATH=/bin'] };
    expect(
      configMismatch(wanted, { ...wanted, Entrypoint: [], Env: ['PATH=/bin', 'container=podman'] }),
    ).toBeUndefined();
    expect(configMismatch(wanted, { ...wanted, Cmd: ['sh', '-c', 'pip install'] })).toBe(
      'Cmd ["sh","-c","pip install"]',
    );
    expect(configMismatch(wanted, { ...wanted, User: '0' })).toBe('User "0"');
    expect(configMismatch(wanted, { ...wanted, Labels: { a: '"1"' } })).toBe('label a');
  });
});
