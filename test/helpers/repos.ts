import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { onTestFinished } from 'vitest';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.org',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.org',
};

export async function git(dir: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd: dir, env: GIT_ENV })).stdout.trim();
}

export function tempDir(prefix = 'nfhot-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    process.once('exit', remove); // made outside a test (beforeAll): kept for the whole file
  }
  return dir;
}

/** Rewrites the test package so that its console script prints `greet <version> <variant>`. */
export function setVariant(dir: string, variant: string, version: string, name = 'greet'): void {
  writeFileSync(
    join(dir, 'pyproject.toml'),
    `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${name}"\nversion = "${version}"\n\n[project.scripts]\n${name} = "${name}:main"\n`,
  );
  writeFileSync(
    join(dir, 'src', name, '__init__.py'),
    `__version__ = "${version}"\nVARIANT = "${variant}"\n\n\ndef main() -> None:\n    print(f"${name} {__version__} {VARIANT}")\n`,
  );
}

export interface GreetRepo {
  dir: string;
  url: string;
  commit(ref: string): Promise<string>;
}

/**
 * A git repository of the test package: main (1.0.0, "original"), feature (1.1.0, "feature"),
 * tag v1.1.0, and broken (its build fails).
 */
export async function greetRepo(): Promise<GreetRepo> {
  const dir = join(tempDir(), 'greet');
  cpSync('test/fixtures/greet', dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'greet 1.0.0');
  await git(dir, 'checkout', '-qb', 'feature');
  setVariant(dir, 'feature', '1.1.0');
  await git(dir, 'commit', '-qam', 'greet 1.1.0');
  await git(dir, 'tag', 'v1.1.0');
  await git(dir, 'checkout', '-qb', 'broken', 'main');
  writeFileSync(join(dir, 'setup.py'), 'raise SystemExit("greet: deliberate build failure")\n');
  await git(dir, 'add', 'setup.py');
  await git(dir, 'commit', '-qm', 'broken');
  await git(dir, 'checkout', '-q', 'main');
  return { dir, url: `file://${dir}`, commit: (ref) => git(dir, 'rev-parse', `${ref}^{commit}`) };
}

/** A second package, for patch sets of more than one package. */
export async function otherRepo(): Promise<GreetRepo> {
  const dir = join(tempDir(), 'other');
  cpSync('test/fixtures/greet', dir, { recursive: true });
  rmSync(join(dir, 'src', 'greet'), { recursive: true });
  cpSync('test/fixtures/greet/src/greet', join(dir, 'src', 'other'), { recursive: true });
  setVariant(dir, 'other', '0.1.0', 'other');
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'other 0.1.0');
  return { dir, url: `file://${dir}`, commit: (ref) => git(dir, 'rev-parse', `${ref}^{commit}`) };
}

/** A branch off main whose greet prints `greet <version> <branch>`. */
export async function addVariant(repo: GreetRepo, branch: string, version: string): Promise<void> {
  await git(repo.dir, 'checkout', '-qb', branch, 'main');
  setVariant(repo.dir, branch, version);
  await git(repo.dir, 'commit', '-qam', `greet ${version}`);
  await git(repo.dir, 'checkout', '-q', 'main');
}

/** Inside the container, the build of branch `gated` waits until this file exists. */
export const GATE = '/tmp/nfhot-test-gate';

/** Branch `gated` (1.3.0): its build waits at the gate, so a test can act while pip runs. */
export async function addGate(repo: GreetRepo): Promise<void> {
  await git(repo.dir, 'checkout', '-qb', 'gated', 'main');
  setVariant(repo.dir, 'gated', '1.3.0');
  writeFileSync(
    join(repo.dir, 'setup.py'),
    `import os, time\nfrom setuptools import setup\n\nwhile not os.path.exists(${JSON.stringify(GATE)}):\n    time.sleep(0.05)\nsetup()\n`,
  );
  await git(repo.dir, 'add', '-A');
  await git(repo.dir, 'commit', '-qm', 'gated');
  await git(repo.dir, 'checkout', '-q', 'main');
}
