// build.py's versions from git, checked against setuptools_scm's, hatch-vcs' and pdm-backend's
// own rules (read from their sources), on this machine's python3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/repos.js';

const COMMIT = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';

/** The version build.py gives a source with this pyproject.toml and these facts, with setuptools_scm `major` installed. */
async function version(pyproject: string, facts: Record<string, unknown>, major = 10): Promise<string> {
  const src = join(tempDir(), 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'pyproject.toml'), pyproject);
  const code = `import json, sys
sys.path.insert(0, "src/python")
from nfhot_install import build
build.installed_version = lambda name: (${major}, 0) if name in ("setuptools_scm", "setuptools-scm") else None
try:
    print(build.scm_version(sys.argv[1], json.loads(sys.argv[2]))[0])
except ValueError as e:
    print("ValueError: %s" % e)`;
  const facts2 = {
    tool: 'setuptools_scm',
    commit: COMMIT,
    short: COMMIT.slice(0, 7),
    dirty: false,
    distance: 0,
    ...facts,
  };
  return (
    await execa('python3', ['-c', code, src, JSON.stringify(facts2)], { env: { SOURCE_DATE_EPOCH: '1765000000' } })
  ).stdout.trim();
}

const SCM = '[tool.setuptools_scm]\n';

describe("build.py's version from git", () => {
  it("setuptools_scm's default: the tag at the tag, the next version's .devN and the node past it, the date when dirty", async () => {
    expect(await version(SCM, { tag: 'v1.2.3' })).toBe('1.2.3');
    expect(await version(SCM, { tag: 'v1.2.3', distance: 3 })).toBe(`1.2.4.dev3+g${COMMIT.slice(0, 9)}`);
    expect(await version(SCM, { tag: 'v1.2.3', dirty: true })).toBe(`1.2.4.dev0+g${COMMIT.slice(0, 9)}.d20251206`);
    expect(await version(SCM, { distance: 5 })).toBe(`0.1.dev5+g${COMMIT.slice(0, 9)}`);
    expect(await version(SCM, { tag: 'mypkg-1.0rc1', distance: 2 })).toBe(`1.0rc2.dev2+g${COMMIT.slice(0, 9)}`);
    expect(await version(SCM, { tag: '2.0.dev0', distance: 2 })).toBe(`2.0.dev2+g${COMMIT.slice(0, 9)}`);
  });

  it('before setuptools_scm 9, the node is as git abbreviates it (and 7 hex digits without a tag)', async () => {
    expect(await version(SCM, { tag: 'v1.2.3', distance: 3, short: '1a2b3c4d' }, 8)).toBe('1.2.4.dev3+g1a2b3c4d');
    expect(await version(SCM, { distance: 5 }, 7)).toBe('0.1.dev5+g1a2b3c4');
  });

  it("the project's schemes and tag regex", async () => {
    const past = { tag: 'v1.2.3', distance: 3 };
    expect(await version(`${SCM}version_scheme = "post-release"\n`, past)).toBe(`1.2.3.post3+g${COMMIT.slice(0, 9)}`);
    expect(await version(`${SCM}version_scheme = "no-guess-dev"\nlocal_scheme = "no-local-version"\n`, past)).toBe(
      '1.2.3.post1.dev3',
    );
    expect(await version(`${SCM}local_scheme = "dirty-tag"\n`, { ...past, dirty: true })).toBe('1.2.4.dev3+dirty');
    expect(await version(`${SCM}version_scheme = "only-version"\n`, past)).toBe(`1.2.3+g${COMMIT.slice(0, 9)}`);
    expect(
      await version(`${SCM}version_scheme = "release-branch-semver"\nlocal_scheme = "no-local-version"\n`, {
        ...past,
        branch: 'release/1.2',
      }),
    ).toBe('1.2.4.dev3');
    expect(
      await version(`${SCM}version_scheme = "release-branch-semver"\nlocal_scheme = "no-local-version"\n`, {
        ...past,
        branch: 'main',
      }),
    ).toBe('1.3.0.dev3');
    expect(
      await version(`${SCM}version_scheme = "python-simplified-semver"\nlocal_scheme = "no-local-version"\n`, {
        ...past,
        branch: 'feature/x',
      }),
    ).toBe('1.3.0.dev3');
    expect(
      await version(`${SCM}tag_regex = "^pkg/v(?P<version>.+)$"\nlocal_scheme = "no-local-version"\n`, {
        tag: 'pkg/v3.1',
        distance: 1,
      }),
    ).toBe('3.2.dev1');
    expect(await version(`${SCM}version_scheme = "calver-by-date"\n`, past)).toMatch(
      /^ValueError: setuptools_scm's version scheme calver-by-date is one nfhot does not compute/,
    );
  });

  it("hatch-vcs' options (dotted keys, tag-pattern) and pdm-backend's format", async () => {
    const hatch = '[tool.hatch]\nversion.source = "vcs"\nversion.raw-options.local_scheme = "no-local-version"\n';
    expect(await version(hatch, { tool: 'hatch-vcs', tag: '4.17.0', distance: 1 })).toBe('4.17.1.dev1');
    expect(
      await version('[tool.hatch.version]\nsource = "vcs"\ntag-pattern = "^rel-(?P<version>.+)$"\n', {
        tool: 'hatch-vcs',
        tag: 'rel-2.0',
        distance: 0,
      }),
    ).toBe('2.0');
    const pdm = '[tool.pdm.version]\nsource = "scm"\n';
    expect(await version(pdm, { tool: 'pdm', tag: 'v1.2.3', distance: 2 })).toBe(`1.2.4.dev2+g${COMMIT.slice(0, 7)}`);
    // pdm-backend does not bump a dirty tree at its tag, and dates it today (not SOURCE_DATE_EPOCH).
    expect(await version(pdm, { tool: 'pdm', tag: 'v1.2.3', dirty: true })).toBe(
      `1.2.3+d${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`,
    );
  });

  it('hands an earlier patch its version as it was', async () => {
    expect(await version(SCM, { version: '9.9.9.dev1+gabc' })).toBe('9.9.9.dev1+gabc');
  });
});
