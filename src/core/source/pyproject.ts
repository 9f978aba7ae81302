import { parse as parseToml } from 'smol-toml';
/** The files at a source's root that make it a Python project, as text (undefined when absent). */
export interface ProjectFiles {
  pyproject?: string;
  setupCfg?: string;
  setupPy?: string;
}

export function isPythonProject(files: ProjectFiles): boolean {
  return files.pyproject !== undefined || files.setupCfg !== undefined || files.setupPy !== undefined;
}

/** The lines of one `[section]` of an INI file (setup.cfg). */
function section(text: string, name: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === `[${name}]`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

type Table = Record<string, unknown>;

/** pyproject.toml as data; empty when it is missing or not TOML (the build says what is wrong). */
function pyprojectOf(files: ProjectFiles): Table {
  if (!files.pyproject) return {};
  try {
    return parseToml(files.pyproject) as Table;
  } catch {
    return {};
  }
}

/** The value at a dotted path of TOML data (`tool.hatch.version`), however the file spelled the tables. */
function at(data: Table, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((t, key) => (t && typeof t === 'object' ? (t as Table)[key] : undefined), data);
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const QUOTED = /^\s*name\s*=\s*["']([^"']+)["']/m;
const BARE = /^\s*name\s*=\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*$/m;

/**
 * The distribution name a source declares, read statically: pyproject's [project] (or
 * [tool.poetry]) name, setup.cfg's [metadata] name, or a literal name= in setup.py.
 * Undefined when the name is computed at build time.
 */
export function projectName(files: ProjectFiles): string | undefined {
  const pyproject = pyprojectOf(files);
  const name = str(at(pyproject, 'project.name')) ?? str(at(pyproject, 'tool.poetry.name'));
  if (name) return name;
  if (files.setupCfg) {
    const meta = section(files.setupCfg, 'metadata') ?? '';
    const m = BARE.exec(meta) ?? QUOTED.exec(meta);
    if (m) return m[1];
  }
  if (files.setupPy) {
    const m = /\bname\s*=\s*["']([A-Za-z0-9][A-Za-z0-9._-]*)["']/.exec(files.setupPy);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * How a project takes its version from git, read statically: a tool whose version nfhot computes
 * (setuptools_scm and what is built on it, pdm-backend) with the tags it looks at, or another one
 * (named), or undefined when the version is not git's.
 */
export type VcsVersioning =
  | { tool: 'setuptools_scm' | 'hatch-vcs' | 'pdm'; match: string[] }
  | { tool: 'other'; name: string };

const OTHER_TOOLS = ['versioningit', 'setuptools-git-versioning', 'poetry-dynamic-versioning', 'versioneer', 'dunamai'];

export function vcsVersioning(files: ProjectFiles): VcsVersioning | undefined {
  const pyproject = pyprojectOf(files);
  if (str(at(pyproject, 'tool.pdm.version.source')) === 'scm')
    return { tool: 'pdm', match: [str(at(pyproject, 'tool.pdm.version.tag_filter')) || '*.*'] };
  if (str(at(pyproject, 'tool.hatch.version.source')) === 'vcs') return { tool: 'hatch-vcs', match: ['*[0-9]*'] };
  const scm = at(pyproject, 'tool.setuptools_scm') as Table | undefined;
  const requires = (at(pyproject, 'build-system.requires') as unknown[] | undefined)?.map(String).join(' ') ?? '';
  const backend = str(at(pyproject, 'build-system.build-backend')) ?? '';
  const dynamic = ((at(pyproject, 'project.dynamic') as unknown[] | undefined) ?? []).includes('version');
  const setup = `${files.setupPy ?? ''}\n${files.setupCfg ?? ''}`;
  if (
    scm ||
    backend.startsWith('flit_scm') ||
    /\buse_scm_version\b/.test(setup) ||
    (/setuptools[-_]scm/i.test(requires) && (dynamic || !at(pyproject, 'project')))
  ) {
    // A describe command of the project's own: the tags it matches.
    const describe = at(scm ?? {}, 'git_describe_command') ?? at(scm ?? {}, 'scm.git.describe_command') ?? '';
    const words = Array.isArray(describe) ? describe.map(String) : String(describe).split(/\s+/);
    const match = words
      .flatMap((w, i) => (w === '--match' ? [words[i + 1] ?? ''] : w.startsWith('--match=') ? [w.slice(8)] : []))
      .map((m) => m.replace(/^["']|["']$/g, ''))
      .filter(Boolean);
    return { tool: 'setuptools_scm', match: match.length ? match : ['*[0-9]*'] };
  }
  const other = OTHER_TOOLS.find((t) => at(pyproject, `tool.${t}`) !== undefined || requires.includes(t));
  if (other) return { tool: 'other', name: other };
  if (/\bpbr\s*=\s*True\b/.test(files.setupPy ?? '')) return { tool: 'other', name: 'pbr' };
  return undefined;
}
