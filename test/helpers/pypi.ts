// Real packages for the tests: git repositories made from PyPI's sources (as a developer's
// checkout of that release is), and virtualenvs on this machine from the wheelhouse.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { inject } from 'vitest';
import { sdistOf } from '../fixtures/pypi/wheelhouse.mjs';
import { git, tempDir, type GreetRepo } from './repos.js';

/** The files a build writes into a checkout that are not in its git repository: PKG-INFO, egg-info, the version file setuptools_scm or hatch-vcs writes. */
function generated(dir: string): string[] {
  const pyproject = existsSync(join(dir, 'pyproject.toml')) ? readFileSync(join(dir, 'pyproject.toml'), 'utf8') : '';
  const versionFiles = [
    ...pyproject.matchAll(
      /^\s*(?:write_to|version_file|version-file|build\.hooks\.vcs\.version-file)\s*=\s*["']([^"']+)["']/gm,
    ),
  ].map((m) => m[1]!);
  const eggInfo = (d: string) =>
    existsSync(join(dir, d))
      ? readdirSync(join(dir, d))
          .filter((f) => f.endsWith('.egg-info'))
          .map((f) => join(d, f))
      : [];
  return ['PKG-INFO', ...eggInfo('.'), ...eggInfo('src'), ...versionFiles];
}

/**
 * A git repository of a package from its sdist in the wheelhouse: the release as one commit on
 * main, tagged `tag` (when given), without what a build generates.
 */
export async function sdistRepo(name: string, tag?: string): Promise<GreetRepo> {
  const root = tempDir();
  await execa('tar', ['--no-same-owner', '-xzf', sdistOf(inject('wheelhouse'), name), '-C', root]);
  const dir = join(root, readdirSync(root)[0]!);
  for (const f of generated(dir)) rmSync(join(dir, f), { recursive: true, force: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', `${name} as released`);
  if (tag) await git(dir, 'tag', tag);
  return { dir, url: `file://${dir}`, commit: (ref) => git(dir, 'rev-parse', `${ref}^{commit}`) };
}

/** A virtualenv on this machine with `packages` from the wheelhouse (none: a bare one); its bin directory. */
export async function hostVenv(...packages: string[]): Promise<string> {
  const dir = join(tempDir(), 'venv');
  await execa('python3', ['-m', 'venv', dir]);
  if (packages.length) {
    await execa(
      join(dir, 'bin', 'python'),
      [
        '-m',
        'pip',
        'install',
        '-q',
        '--disable-pip-version-check',
        '--no-index',
        '--find-links',
        inject('wheelhouse'),
        ...packages,
      ],
      { env: { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '' } },
    );
  }
  return join(dir, 'bin');
}
