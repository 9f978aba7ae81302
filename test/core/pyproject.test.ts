import { describe, expect, it } from 'vitest';
import { isPythonProject, projectName } from '../../src/core/pyproject.js';

describe('projectName', () => {
  it('reads [project] name from pyproject.toml, not a name from another table', () => {
    const pyproject = '[tool.other]\nname = "wrong"\n\n[project]\nversion = "1"\nname = "Right_Name"\n\n[tool.x]\nname = "also-wrong"\n';
    expect(projectName({ pyproject })).toBe('Right_Name');
  });

  it('reads poetry, setup.cfg and setup.py names', () => {
    expect(projectName({ pyproject: '[tool.poetry]\nname = "poetic"\n' })).toBe('poetic');
    expect(projectName({ pyproject: '[build-system]\nrequires=["setuptools"]\n', setupCfg: '[metadata]\nname = cfgname\nversion = 1\n' })).toBe('cfgname');
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
