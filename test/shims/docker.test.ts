import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { activeRef, parseImageRef } from '../../src/core/image/reference.js';
import { tempDir } from '../helpers/repos.js';

/**
 * A stand-in for the real docker that records the arguments it is given (NUL-separated) and, for
 * the shim's `image inspect`, answers as a daemon would for an image nfhot patched.
 */
function fakeDocker(): {
  dir: string;
  run: (
    args: string[],
    env?: Record<string, string>,
  ) => Promise<{ exitCode: number; args: string[]; inspected: string[] }>;
} {
  const dir = tempDir('nfhot-shim-');
  const fake = join(dir, 'real-docker');
  writeFileSync(
    fake,
    `#!/bin/sh
if [ "$1" = image ] && [ "$2" = inspect ]; then
  printf '%s\\n' "$6" > "$FAKE_DIR/inspected"
  [ -n "$FAKE_DERIVATIVE" ] && printf 'sha256:t|%s|sha256:o|%s|%s,%s,\\n' "$FAKE_LABEL" "$FAKE_DERIVATIVE" "$5" "$FAKE_DERIVATIVE"
  exit 0
fi
for a do printf '%s\\0' "$a"; done > "$FAKE_DIR/args"
exit \${FAKE_EXIT:-0}
`,
  );
  chmodSync(fake, 0o755);
  return {
    dir,
    async run(args, env = {}) {
      writeFileSync(join(dir, 'args'), '');
      writeFileSync(join(dir, 'inspected'), '');
      const result = await execa('shims/docker', args, {
        reject: false,
        env: { NFHOT_REAL_DOCKER: fake, FAKE_DIR: dir, ...env },
      });
      const raw = readFileSync(join(dir, 'args'), 'utf8');
      return {
        exitCode: result.exitCode ?? -1,
        args: raw ? raw.split('\0').slice(0, -1) : [],
        inspected: readFileSync(join(dir, 'inspected'), 'utf8').trim().split('\n').filter(Boolean),
      };
    },
  };
}

describe('the docker shim', () => {
  it.each([
    [['ps', '-a', '--format', '{{.Names}}']],
    [['image', 'ls', '--filter', 'reference=org/tool:*']],
    [['build', '-t', 'org/tool:dev', '--build-arg', 'X=$(id)', '.']],
    [['run', '--help']],
    [['--host', 'unix:///var/run/docker.sock', 'images']],
    [['exec', '-it', 'ctr', 'sh', '-c', 'echo "a b"; echo $HOME']],
    [['run', '--rm', 'org/tool:dev', 'sh', '-c', 'printf "%s\\n" "new\nline" \'$x\' "sp ace"']],
  ])('passes %j to the real docker byte for byte', async (args) => {
    const shim = fakeDocker();
    const result = await shim.run(args);
    expect(result.args).toEqual(args);
  });

  it.each([
    [['run', '--rm', '-e', 'X=1', '-v', '/a:/b', '--name=x', 'org/tool:dev', 'greet', '--flag'], 7],
    [['run', '-it', '-e', 'FOO', 'org/tool:dev'], 4],
    [['run', '-itv', '/x:/y', 'org/tool:dev'], 3],
    [['run', '-eFOO=1', '-p8080:80', 'org/tool:dev', 'x'], 3],
    [
      [
        '--host',
        'tcp://h:1',
        '--log-level=debug',
        'run',
        '--sig-proxy=false',
        '--platform',
        'linux/amd64',
        'org/tool:dev',
      ],
      7,
    ],
    [
      [
        'container',
        'create',
        '--rm',
        '-u',
        '1000:1000',
        '-w',
        '/w d',
        'org/tool:dev',
        '/bin/bash',
        '-ue',
        'x y/.command.sh',
      ],
      7,
    ],
    [
      [
        'run',
        '-i',
        '-e',
        'NXF_TASK_WORKDIR',
        '-v',
        '/w:/w',
        '-w',
        '/w',
        '--name',
        'nxf-1',
        'org/tool:dev',
        '/bin/bash',
        '-ue',
        '/w/.command.sh',
      ],
      10,
    ],
    [['run', '--', 'org/tool:dev', 'x'], 2],
  ])('rewrites only the image operand of %j', async (args, position) => {
    const shim = fakeDocker();
    const result = await shim.run(args, {
      FAKE_LABEL: 'org/tool:dev',
      FAKE_DERIVATIVE: 'nfhot.local/org/tool:dev-abcabcabcabc',
    });
    const expected = [...args];
    expected[position] = 'nfhot.local/org/tool:dev-abcabcabcabc';
    expect(result.args).toEqual(expected);
  });

  it("leaves an image alone that is not nfhot's", async () => {
    const shim = fakeDocker();
    const args = ['run', '--rm', 'org/tool:dev', 'greet'];
    expect(
      (await shim.run(args, { FAKE_LABEL: 'org/other:dev', FAKE_DERIVATIVE: 'nfhot.local/org/other:dev-abcabcabcabc' }))
        .args,
    ).toEqual(args);
  });

  it.each([
    'ubuntu',
    'docker.io/library/ubuntu:22.04',
    'library/ubuntu',
    'org/tool',
    'quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
    'localhost:5000/x/y:t',
    'localhost/foo:tag',
    'Registry.Example.org:443/a/b:c',
  ])('names %s as nfhot does (familiar name and active reference)', async (image) => {
    const shim = fakeDocker();
    const ref = parseImageRef(image);
    const result = await shim.run(['run', image], {
      FAKE_LABEL: ref.familiar,
      FAKE_DERIVATIVE: 'nfhot.local/x:y-abcabcabcabc',
    });
    expect(result.inspected).toEqual([activeRef(ref)]);
    expect(result.args).toEqual(['run', 'nfhot.local/x:y-abcabcabcabc']);
  });

  it("exits with the real docker's exit code", async () => {
    const shim = fakeDocker();
    expect((await shim.run(['ps'], { FAKE_EXIT: '7' })).exitCode).toBe(7);
    expect((await shim.run(['run', 'org/tool:dev'], { FAKE_EXIT: '42' })).exitCode).toBe(42);
  });
});
