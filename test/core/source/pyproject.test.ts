import { describe, expect, it } from 'vitest';
import { isPythonProject, projectName, vcsVersioning } from '../../../src/core/source/pyproject.js';

describe('projectName', () => {
  it('reads [project] name from pyproject.toml, not a name from another table', () => {
    const pyproject =
      '[tool.other]\nname = "wrong"\n\n[project]\nversion = "1"\nname = "Right_Name"\n\n[tool.x]\nname = "also-wrong"\n';
    expect(projectName({ pyproject })).toBe('Right_Name');
  });

  it('reads poetry, setup.cfg and setup.py names', () => {
    expect(projectName({ pyproject: '[tool.poetry]\nname = "poetic"\n' })).toBe('poetic');
    expect(
      projectName({
        pyproject: '[build-system]\nrequires=["setuptools"]\n',
        setupCfg: '[metadata]\nname = cfgname\nversion = 1\n',
      }),
    ).toBe('cfgname');
    expect(projectName({ setupPy: 'from setuptools import setup\nsetup(\n    name="pyname",\n)\n' })).toBe('pyname');
  });

  it('says nothing when the name is computed', () => {
    expect(projectName({ setupPy: 'setup(name=NAME)' })).toBeUndefined();
  });

  it('knows a Python project by its files', () => {
    expect(isPythonProject({})).toBe(false);
    expect(isPythonProject({ setupPy: '' })).toBe(true);
  });
});

describe('vcsVersioning', () => {
  const requires = (...r: string[]) =>
    `[build-system]\nrequires = [${r.map((x) => JSON.stringify(x)).join(', ')}]\nbuild-backend = "setuptools.build_meta"\n`;

  it('finds setuptools_scm by its table, its requirement with a dynamic version, or setup.py', () => {
    expect(
      vcsVersioning({
        pyproject: `${requires('setuptools')}\n[tool.setuptools_scm]\nwrite_to = "src/x/_version.py"\n`,
      }),
    ).toEqual({ tool: 'setuptools_scm', match: ['*[0-9]*'] });
    expect(
      vcsVersioning({
        pyproject: `${requires('setuptools>=64', 'setuptools_scm[toml]>=8')}\n[project]\nname = "x"\ndynamic = ["version"]\n`,
      }),
    ).toEqual({ tool: 'setuptools_scm', match: ['*[0-9]*'] });
    expect(
      vcsVersioning({
        setupPy: 'from setuptools import setup\nsetup(use_scm_version={"local_scheme": "dirty-tag"})\n',
      }),
    ).toEqual({ tool: 'setuptools_scm', match: ['*[0-9]*'] });
    // Required but the version is static: not git's.
    expect(
      vcsVersioning({
        pyproject: `${requires('setuptools', 'setuptools-scm')}\n[project]\nname = "x"\nversion = "1.0"\n`,
      }),
    ).toBeUndefined();
    expect(
      vcsVersioning({ pyproject: `${requires('setuptools')}\n[project]\nname = "x"\nversion = "1.0"\n` }),
    ).toBeUndefined();
  });

  it("reads the tags a project's own describe command matches", () => {
    expect(
      vcsVersioning({
        pyproject:
          '[tool.setuptools_scm]\ngit_describe_command = "git describe --dirty --tags --long --match pkg-v*"\n',
      }),
    ).toEqual({ tool: 'setuptools_scm', match: ['pkg-v*'] });
    expect(
      vcsVersioning({
        pyproject:
          '[tool.setuptools_scm]\ngit_describe_command = ["git", "describe", "--tags", "--long", "--match=v[0-9]*"]\n',
      }),
    ).toEqual({ tool: 'setuptools_scm', match: ['v[0-9]*'] });
  });

  it('finds hatch-vcs and pdm-backend however their tables are spelled, and names the tools it does not compute', () => {
    expect(
      vcsVersioning({
        pyproject: '[tool.hatch]\nversion.source = "vcs"\nversion.raw-options.local_scheme = "no-local-version"\n',
      }),
    ).toEqual({ tool: 'hatch-vcs', match: ['*[0-9]*'] });
    expect(vcsVersioning({ pyproject: '[tool.hatch.version]\nsource = "vcs"\n' })).toEqual({
      tool: 'hatch-vcs',
      match: ['*[0-9]*'],
    });
    expect(vcsVersioning({ pyproject: '[tool.hatch.version]\npath = "src/x/__about__.py"\n' })).toBeUndefined();
    expect(vcsVersioning({ pyproject: '[tool.pdm]\nversion = { source = "scm", tag_filter = "v*" }\n' })).toEqual({
      tool: 'pdm',
      match: ['v*'],
    });
    expect(vcsVersioning({ pyproject: '[tool.pdm.version]\nsource = "scm"\n' })).toEqual({
      tool: 'pdm',
      match: ['*.*'],
    });
    expect(vcsVersioning({ pyproject: '[tool.versioningit]\n' })).toEqual({ tool: 'other', name: 'versioningit' });
    expect(vcsVersioning({ setupPy: 'setup(setup_requires=["pbr"], pbr=True)' })).toEqual({
      tool: 'other',
      name: 'pbr',
    });
  });
});
