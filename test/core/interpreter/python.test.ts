import { describe, expect, it } from 'vitest';
import { chooseInterpreter, parseProbe, repositoryOf, type PythonEnv } from '../../../src/core/interpreter/python.js';

function env(path: string, extra: Partial<PythonEnv> = {}): PythonEnv {
  return {
    path,
    executable: path,
    prefix: path.replace(/\/bin\/python3?$/, ''),
    version: '3.11.2',
    venv: true,
    pip: '23.0.1',
    externallyManaged: false,
    dist: null,
    ...extra,
  };
}
const greet = { name: 'greet', version: '1.0.0', directUrl: null, projectUrls: [] as [string, string][] };

describe('parseProbe', () => {
  it('keeps one entry per environment, in the order found, and skips noise', () => {
    const lines = [
      env('/opt/venv/bin/python3'),
      env('/usr/bin/python3'),
      { ...env('/opt/venv/bin/python'), prefix: '/opt/venv' },
    ].map((e) => JSON.stringify(e));
    const { envs } = parseProbe(['warning: noise', ...lines, '{broken'].join('\n'));
    expect(envs.map((e) => e.path)).toEqual(['/opt/venv/bin/python3', '/usr/bin/python3']);
  });

  it('notices an explicit interpreter that does not exist', () => {
    expect(parseProbe('{"missing": true}\n').explicitMissing).toBe(true);
  });
});

describe('chooseInterpreter', () => {
  const envs = [
    env('/usr/local/bin/python3'),
    env('/opt/conda/envs/tools/bin/python3', { dist: greet }),
    env('/usr/bin/python3'),
  ];

  it('takes the environment that has the distribution', () => {
    expect(chooseInterpreter(envs, 'img', 'greet', undefined)).toMatchObject({
      env: { path: '/opt/conda/envs/tools/bin/python3' },
      reason: 'it has greet 1.0.0',
    });
  });

  it('falls back to the default python, and says so', () => {
    expect(
      chooseInterpreter(
        envs.map((e) => ({ ...e, dist: null })),
        'img',
        'greet',
        undefined,
      ),
    ).toMatchObject({
      env: { path: '/usr/local/bin/python3' },
      reason: expect.stringContaining('no environment has greet'),
    });
  });

  it('obeys --python', () => {
    expect(chooseInterpreter(envs, 'img', 'greet', '/usr/bin/python3').env.path).toBe('/usr/bin/python3');
    expect(() => chooseInterpreter(envs, 'img', 'greet', '/nope/python')).toThrow(
      /no working Python at \/nope\/python in img/,
    );
  });

  it('says how the environment was found: on the PATH a task gets, or by its files', () => {
    const found = [
      env('/usr/bin/python3', { how: 'PATH' }),
      env('/opt/wave/.pixi/envs/default/bin/python3.11', { how: 'search', dist: greet }),
    ];
    expect(chooseInterpreter(found, 'img', 'greet', undefined).reason).toBe('it has greet 1.0.0, found by its files');
    expect(chooseInterpreter([{ ...found[0]!, dist: greet }], 'img', 'greet', undefined).reason).toBe(
      "it has greet 1.0.0 and is on a task's PATH",
    );
  });

  it('takes an environment without pip (pip is brought along)', () => {
    expect(
      chooseInterpreter([env('/usr/bin/python3', { pip: null, dist: greet })], 'img', 'greet', undefined).env.path,
    ).toBe('/usr/bin/python3');
  });

  it('fails clearly with no Python, or a Python too old', () => {
    expect(() => chooseInterpreter([], 'img', 'greet', undefined)).toThrow(/no Python interpreter found in img/);
    expect(() =>
      chooseInterpreter([env('/usr/bin/python3', { version: '3.7.17' })], 'img', undefined, undefined),
    ).toThrow(/is Python 3\.7\.17; nfhot needs Python 3\.8\.0 or newer/);
  });
});

describe('repositoryOf', () => {
  it('prefers the PEP 610 record of a VCS install', () => {
    expect(
      repositoryOf({
        ...greet,
        directUrl: { url: 'https://host.org/greet.git', vcs_info: { vcs: 'git', commit_id: 'abc' } },
        projectUrls: [['Source', 'https://other.org/x']],
      }),
    ).toBe('https://host.org/greet.git');
  });

  it('then the project URLs, source before homepage, and a homepage only when it is a repository', () => {
    expect(
      repositoryOf({
        ...greet,
        projectUrls: [
          ['Homepage', 'https://github.com/o/h'],
          ['Repository', 'https://gitlab.com/o/r'],
        ],
      }),
    ).toBe('https://gitlab.com/o/r');
    expect(repositoryOf({ ...greet, projectUrls: [['Homepage', 'https://greet.readthedocs.io']] })).toBeUndefined();
    expect(repositoryOf({ ...greet, projectUrls: [['Documentation', 'https://github.com/o/docs']] })).toBeUndefined();
  });
});
