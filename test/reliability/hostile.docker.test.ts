import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lockKey } from '../../src/core/image/lock.js';
import { nfhotRepository, parseImageRef } from '../../src/core/image/reference.js';
import { NO_STACK, nfhot } from '../helpers/cli.js';
import { expectIncludesTrue } from '../helpers/includes.js';
import { cleanupRepo, docker, runIn } from '../helpers/docker.js';
import { writePipeline } from '../helpers/pipeline.js';
import { addVariant, git, greetRepo, tempDir, type GreetRepo } from '../helpers/repos.js';

/**
 * Hostile and broken input, one case per row: each gets a one-line error (and perhaps a hint),
 * exit 1 or 2, no stack trace, and leaves every tag, image and container as it was. A canary
 * file would appear if any string reached a shell.
 */
const PREFIX = `nfhot-test-${randomBytes(5).toString('hex')}`;
const CANARY = join(tmpdir(), `nfhot-pwned-${randomBytes(4).toString('hex')}`);
const RUN = `touch\${IFS}${CANARY}`;
const images = (name: string) => `${PREFIX}/${name}:dev`;
const FIXTURES = ['venv', 'nopython', 'nopip', 'readonly'];

interface Fixture {
  repo: GreetRepo;
  /** A directory that is no Python project. */
  plain: string;
  pipeline: string;
}
let f: Fixture;

interface Case {
  name: string;
  args: () => string[];
  exit: 1 | 2;
  error: RegExp;
  env?: Record<string, string>;
  /** Set up the world for this case; returns how to put it back. */
  arrange?: () => Promise<() => Promise<void>> | (() => Promise<void>);
}

const venv = images('venv');
const src = (ref: string) => `git+${f.repo.url}@${ref}`;
const onVenv =
  (source: () => string, ...extra: string[]) =>
  () => ['patch', source(), '--image', venv, ...extra];

const CASES: Case[] = [
  // Sources that are not sources.
  { name: 'the source "@"', args: () => ['patch', '@', '--image', venv], exit: 2, error: /cannot read source "@"/ },
  {
    name: 'the source "pkg@" (no ref)',
    args: () => ['patch', 'pkg@', '--image', venv],
    exit: 2,
    error: /invalid ref "" in source "pkg@": it is empty/,
  },
  {
    name: 'the source "git+@x" (no URL)',
    args: () => ['patch', 'git+@x', '--image', venv],
    exit: 2,
    error: /invalid git source "git\+@x": no repository URL/,
  },
  { name: 'an empty source', args: () => ['patch', '', '--image', venv], exit: 2, error: /the source is empty/ },
  {
    name: 'a source that is only spaces',
    args: () => ['patch', '   ', '--image', venv],
    exit: 2,
    error: /the source is empty/,
  },
  {
    name: 'an option nfhot does not have (-x)',
    args: () => ['patch', '-x', '--image', venv],
    exit: 2,
    error: /Not enough non-option arguments: got 0, need at least 1/,
  },
  {
    name: 'a source that reads as an option (-- -x)',
    args: () => ['patch', '--image', venv, '--', '-x'],
    exit: 2,
    error: /Not enough non-option arguments/,
  },
  {
    name: 'words after -- (only watch takes a command there)',
    args: () => ['patch', src('feature'), '--image', venv, '--', 'rm', '-rf', '/'],
    exit: 2,
    error: /unexpected "rm" "-rf" "\/" after --/,
  },
  {
    name: 'an option of git given as --repo',
    args: () => ['patch', 'greet@main', '--repo', `--upload-pack=${RUN}`, '--image', venv],
    exit: 2,
    error: /Unknown arguments: upload-pack/,
  },
  // Refs that look like options, or carry shell syntax, whitespace, control or non-ASCII characters.
  { name: 'the ref -x', args: onVenv(() => src('-x')), exit: 2, error: /invalid ref "-x" .*starts with "-"/ },
  {
    name: 'the ref --upload-pack=…',
    args: onVenv(() => src(`--upload-pack=${RUN}`)),
    exit: 2,
    error: /invalid ref "--upload-pack=.*starts with "-"/,
  },
  {
    name: 'NAME@--upload-pack=… with --repo',
    args: () => ['patch', `greet@--upload-pack=${RUN}`, '--repo', f.repo.url, '--image', venv],
    exit: 2,
    error: /invalid ref "--upload-pack=/,
  },
  {
    name: 'a --repo that reads as an option',
    args: () => ['patch', 'greet@main', `--repo=--upload-pack=${RUN}`, '--image', venv],
    exit: 2,
    error: /invalid --repo "--upload-pack=touch.*cannot be empty, start with "-"/,
  },
  {
    name: 'a ref with $(…)',
    args: onVenv(() => src(`$(${RUN})`)),
    exit: 2,
    error: /invalid ref "\$\(touch\$\{IFS\}[^"]+\)" in source "[^"]+": it contains shell metacharacters/,
  },
  {
    name: 'a ref with backquotes',
    args: onVenv(() => src(`\`${RUN}\``)),
    exit: 2,
    error: /invalid ref .*shell metacharacters/,
  },
  {
    name: 'a ref with ; and |',
    args: onVenv(() => src(`main;${RUN}|cat`)),
    exit: 2,
    error: /invalid ref .*shell metacharacters/,
  },
  {
    name: 'a ref with a space',
    args: onVenv(() => src('my branch')),
    exit: 2,
    error: /invalid ref "my branch" .*a space/,
  },
  {
    name: 'a ref with a newline',
    args: onVenv(() => src(`main\n${RUN}`)),
    exit: 2,
    error: /invalid ref "main\\ntouch.*control character/,
  },
  { name: 'a ref with ..', args: onVenv(() => src('feature..main')), exit: 2, error: /not a valid git ref name/ },
  {
    name: 'a ref over 255 characters',
    args: onVenv(() => src('b'.repeat(300))),
    exit: 2,
    error: /longer than 255 characters/,
  },
  {
    name: 'a non-ASCII ref that does not exist',
    args: onVenv(() => src('fëature-ø')),
    exit: 1,
    error: /ref "fëature-ø" not found in file:\/\//,
  },
  {
    name: 'a branch that does not exist',
    args: onVenv(() => src('no-such-branch')),
    exit: 1,
    error: /ref "no-such-branch" not found/,
  },
  {
    name: 'a commit that does not exist',
    args: onVenv(() => src('0123456789abcdef0123456789abcdef01234567')),
    exit: 1,
    error: /ref "0123456789abcdef0123456789abcdef01234567" not found/,
  },
  // URLs git must not run anything for.
  {
    name: "git's ext:: transport (runs a command)",
    args: onVenv(() => `git+ext::sh -c ${RUN}@main`),
    exit: 2,
    error:
      /invalid git source "git\+ext::sh -c touch\$\{IFS\}[^"]+@main": the URL contains whitespace or control characters/,
  },
  {
    name: "git's ext:: transport without spaces",
    args: onVenv(() => `git+ext::${RUN}@main`),
    exit: 1,
    error: /cannot fetch ext::.*transport 'ext' not allowed/,
  },
  {
    name: 'an ssh host that reads as an option',
    args: onVenv(() => `git+ssh://-oProxyCommand=${RUN}/repo.git@main`),
    exit: 1,
    error: /cannot fetch ssh:\/\/-oProxyCommand=.*strange hostname/,
  },
  {
    name: 'a repository that does not exist',
    args: onVenv(() => 'git+file:///nonexistent/repo.git@main'),
    exit: 1,
    error: /cannot fetch file:\/\/\/nonexistent\/repo\.git/,
  },
  {
    name: 'a subdirectory outside the repository',
    args: onVenv(() => `${src('main')}#subdirectory=../..`),
    exit: 2,
    error: /invalid subdirectory "\.\.\/\.\.": it must be a relative path inside the repository/,
  },
  {
    name: 'a subdirectory that does not exist',
    args: onVenv(() => `${src('main')}#subdirectory=nope`),
    exit: 1,
    error: /no directory nope at main of file:\/\//,
  },
  // Paths.
  {
    name: 'a directory that does not exist',
    args: () => ['patch', './no such dir', '--image', venv],
    exit: 2,
    error: /no such directory: \.\/no such dir/,
  },
  {
    name: 'a path with $(…) that does not exist',
    args: () => ['patch', `./$(${RUN})`, '--image', venv],
    exit: 2,
    error: /no such directory: \.\/\$\(touch/,
  },
  {
    name: 'a directory that is not a Python project',
    args: () => ['patch', f.plain, '--image', venv],
    exit: 1,
    error: /is not a Python project: it has no pyproject\.toml, setup\.py or setup\.cfg/,
  },
  {
    name: 'a --pipeline that is not a pipeline',
    args: () => ['patch', src('feature'), '--pipeline', f.plain],
    exit: 2,
    error: /is not a pipeline directory/,
  },
  // Image references.
  {
    name: 'an image reference with capitals',
    args: () => ['patch', src('feature'), '--image', 'Org/Tool:dev'],
    exit: 1,
    error: /invalid image reference "Org\/Tool:dev": "Tool" is not a valid repository name component/,
  },
  {
    name: 'an image reference with a space',
    args: () => ['patch', src('feature'), '--image', 'org/tool:bad tag'],
    exit: 1,
    error: /invalid image reference "org\/tool:bad tag": it contains whitespace or control characters/,
  },
  {
    name: 'an image reference with shell syntax',
    args: () => ['patch', src('feature'), '--image', `org/tool;${RUN}`],
    exit: 1,
    error: /invalid image reference "org\/tool;touch/,
  },
  {
    name: 'an image reference over 255 characters',
    args: () => ['patch', src('feature'), '--image', `org/${'t'.repeat(300)}:dev`],
    exit: 1,
    error: /invalid image reference "org\/t{300}:dev": the repository name is longer than 255 characters/,
  },
  {
    name: 'a malformed digest',
    args: () => ['patch', src('feature'), '--image', 'org/tool@sha256:1234'],
    exit: 1,
    error: /cannot patch org\/tool@sha256:1234: a digest reference names immutable content/,
  },
  {
    name: 'an image that does not exist',
    args: () => ['patch', src('feature'), '--image', images('missing')],
    exit: 1,
    error: new RegExp(`image ${PREFIX}/missing:dev is not in the local Docker daemon`),
  },
  {
    name: "one of nfhot's own references",
    args: () => ['patch', src('feature'), '--image', `nfhot.local/${venv}-original`],
    exit: 1,
    error: /is one of nfhot's own references/,
  },
  // Images and packages that cannot take the patch.
  {
    name: 'an image without Python',
    args: () => ['patch', src('feature'), '--image', images('nopython')],
    exit: 1,
    error: /no Python interpreter found in/,
  },
  {
    name: 'an image with Python but no pip, and no pip wheel on either side',
    args: () => ['patch', src('feature'), '--image', images('nopip')],
    env: { NFHOT_PIP_WHEEL: '/nonexistent/pip.whl' },
    exit: 1,
    error: /\/usr\/bin\/python3 in .* has no pip, and nfhot found no pip wheel to run as its pip/,
  },
  {
    name: 'an interpreter that is not in the image',
    args: onVenv(() => src('feature'), '--python', '/no/such/python3'),
    exit: 1,
    error: new RegExp(`^nfhot: error: /no/such/python3 does not exist in ${PREFIX}/venv:dev$`),
  },
  {
    name: 'an interpreter with shell syntax',
    args: onVenv(() => src('feature'), '--python', `python3;${RUN}`),
    exit: 1,
    error: new RegExp(`^nfhot: error: python3;touch\\$\\{IFS\\}\\S+ does not exist in ${PREFIX}/venv:dev$`),
  },
  {
    name: 'an interpreter a shell would expand',
    args: onVenv(() => src('feature'), '--python', '$(echo /usr/bin/python3)'),
    exit: 1,
    error: new RegExp(`^nfhot: error: \\$\\(echo /usr/bin/python3\\) does not exist in ${PREFIX}/venv:dev$`),
  },
  { name: 'a build that fails', args: onVenv(() => src('broken')), exit: 1, error: /pip failed in .* \(exit 1\)/ },
  {
    name: 'an install script that fails',
    args: onVenv(() => src('failing-script')),
    exit: 1,
    error: /pip failed in .* \(exit 1\)/,
  },
  {
    name: 'a C extension, and no compiler in the image',
    args: onVenv(() => src('compiled')),
    exit: 1,
    error:
      /cannot build the compiled extension greet\._speed in .*: the image has no C\/C\+\+ compiler \(\S*gcc not found\)/,
  },
  {
    name: 'a site-packages on a read-only file system',
    args: () => ['patch', src('feature'), '--image', images('readonly')],
    exit: 1,
    error: /pip failed in .*Read-only file system: '\/opt\/venv\/lib\/python3\.11\/site-packages/,
  },
  // The daemon.
  {
    name: 'DOCKER_HOST on a port nothing listens on',
    args: onVenv(() => src('feature')),
    env: { DOCKER_HOST: 'tcp://127.0.0.1:1' },
    exit: 1,
    error: /cannot reach the Docker daemon/,
  },
  {
    name: 'DOCKER_HOST naming a socket that does not exist',
    args: () => ['status'],
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    exit: 1,
    error: /cannot reach the Docker daemon/,
  },
  // The include.
  {
    name: 'an include path that is a directory',
    args: () => ['patch', src('feature'), '--pipeline', f.pipeline],
    exit: 1,
    error: /cannot write .*nfhot\.config: it is not a file/,
    arrange: () => {
      const include = join(f.pipeline, 'nfhot.config');
      const kept = readFileSync(include);
      rmSync(include);
      mkdirSync(include);
      return async () => {
        rmSync(include, { recursive: true });
        writeFileSync(include, kept);
      };
    },
  },
  {
    name: 'an include file that is read-only',
    args: () => ['patch', src('feature'), '--pipeline', f.pipeline],
    exit: 1,
    error: /cannot write .*nfhot\.config: it is read-only/,
    arrange: () => {
      const include = join(f.pipeline, 'nfhot.config');
      const kept = readFileSync(include);
      writeFileSync(include, '// mine\n');
      chmodSync(include, 0o444);
      return async () => {
        chmodSync(include, 0o644);
        writeFileSync(include, kept);
      };
    },
  },
  {
    name: 'a pipeline on a read-only file system',
    args: () => ['patch', src('feature'), '--pipeline', f.pipeline],
    exit: 1,
    error: /cannot write .*nfhot\.config: EROFS/,
    arrange: async () => {
      await execa('mount', ['-o', 'bind,ro', f.pipeline, f.pipeline]);
      return async () => execa('umount', [f.pipeline]).then(() => undefined);
    },
  },
];

/** Our images' tags and IDs, nfhot's references for them, and nfhot's containers for them. */
async function snapshot(): Promise<string[]> {
  const tags = (await docker('images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}')).split('\n');
  const keys = FIXTURES.map((n) => lockKey(images(n)));
  const containers = (await docker('ps', '-a', '--format', '{{.Names}}'))
    .split('\n')
    .filter((n) => keys.some((k) => n.includes(k)));
  const ours = FIXTURES.map((n) => nfhotRepository(parseImageRef(images(n))));
  // Untagged images a failed commit would leave carry nfhot's labels for one of these.
  const untagged = await Promise.all(
    FIXTURES.map((n) =>
      docker(
        'images',
        '-q',
        '--no-trunc',
        '--filter',
        'dangling=true',
        '--filter',
        `label=io.nfhot.image=${images(n)}`,
      ),
    ),
  );
  return [
    ...tags.filter((t) => t.startsWith(`${PREFIX}/`) || ours.some((r) => t.startsWith(`${r}:`))).sort(),
    ...containers,
    ...untagged.join('\n').split('\n').filter(Boolean).sort(),
  ];
}

beforeAll(async () => {
  for (const name of FIXTURES) await docker('tag', inject('images')[name]!, images(name));
  const repo = await greetRepo();
  await addVariant(repo, 'fëature-ü', '1.4.0');
  await git(repo.dir, 'checkout', '-qb', 'failing-script', 'main');
  writeFileSync(
    join(repo.dir, 'setup.py'),
    'import subprocess\nfrom setuptools import setup\nfrom setuptools.command.build_py import build_py\n\n\nclass Build(build_py):\n    def run(self):\n        subprocess.check_call(["sh", "-c", "echo greet: install script failed >&2; exit 3"])\n\n\nsetup(cmdclass={"build_py": Build})\n',
  );
  await git(repo.dir, 'add', '-A');
  await git(repo.dir, 'commit', '-qm', 'failing install script');
  await git(repo.dir, 'checkout', '-qb', 'compiled', 'main');
  writeFileSync(
    join(repo.dir, 'setup.py'),
    'from setuptools import Extension, setup\n\nsetup(ext_modules=[Extension("greet._speed", ["src/greet/_speed.c"])])\n',
  );
  writeFileSync(join(repo.dir, 'src', 'greet', '_speed.c'), '#include <Python.h>\n');
  await git(repo.dir, 'add', '-A');
  await git(repo.dir, 'commit', '-qm', 'a C extension');
  await git(repo.dir, 'checkout', '-q', 'main');
  const plain = join(tmpdir(), `${PREFIX}-plain`);
  mkdirSync(plain, { recursive: true });
  writeFileSync(join(plain, 'README'), 'not a Python project\n');
  f = { repo, plain, pipeline: writePipeline({ GREET: venv }) };
  expect((await nfhot(['config', '--pipeline', f.pipeline])).exitCode).toBe(0); // an include nfhot keeps, through every row
});

afterAll(async () => {
  await cleanupRepo(PREFIX, ...FIXTURES.map(images));
  await execa('rm', ['-rf', f?.plain ?? '/nonexistent', CANARY]);
});

describe('hostile and broken input', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: one line, exit 1 or 2, nothing changed', async (_, c) => {
    const undo = await c.arrange?.();
    try {
      const before = await snapshot();
      const result = await nfhot(c.args(), { env: c.env ?? {} });
      expect(result.exitCode, result.stderr).toBe(c.exit);
      const lines = result.stderr.split('\n');
      const tail = lines.slice(lines.findIndex((l) => l.startsWith('nfhot: error: '))).filter(Boolean);
      expect(tail[0], result.stderr).toMatch(/^nfhot: error: /);
      expect(tail[0]).toMatch(c.error);
      expect(
        tail.slice(1).every((l) => l.startsWith('  hint: ')),
        result.stderr,
      ).toBe(true);
      expect(tail.length).toBeLessThanOrEqual(2);
      expect(result.stderr).not.toMatch(NO_STACK);
      expect(result.stderr).not.toMatch(/internal error/);
      expect(result.stdout).toBe('');
      expect(await snapshot()).toEqual(before);
      expect(existsSync(CANARY)).toBe(false);
    } finally {
      await undo?.();
    }
    await expectIncludesTrue();
  });

  it('installs a checkout whose path has spaces, quotes, $(…), ; a newline and non-ASCII, as it is: nothing runs', async () => {
    // No "/" may be in a name: the canary's path comes from the environment, as a shell would expand it.
    const run = 'touch${IFS}$NFHOT_CANARY';
    const weird = join(tempDir(), `my "pkg" $(${run}); \`${run}\` | ø\nline`);
    await execa('cp', ['-r', f.repo.dir, weird]);
    await git(weird, 'checkout', '-q', 'fëature-ü');
    const result = await nfhot(['patch', weird, '--image', venv], { env: { NFHOT_CANARY: CANARY } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await runIn(venv, 'greet')).toBe('greet 1.4.0 fëature-ü');
    const branch = await nfhot(['patch', src('fëature-ü'), '--image', venv, '--json']);
    expect(branch.exitCode, branch.stderr).toBe(0);
    expect(JSON.parse(branch.stdout).images[0].patches[0]).toMatchObject({ ref: 'fëature-ü' });
    expect(existsSync(CANARY)).toBe(false);
    expect((await expectIncludesTrue()).find((k) => k.path === join(f.pipeline, 'nfhot.config'))?.references).toEqual([
      (await nfhot(['resolve', venv])).stdout.trim(),
    ]);
    expect((await nfhot(['rollback', venv])).exitCode).toBe(0);
    await expectIncludesTrue();
  });
});
