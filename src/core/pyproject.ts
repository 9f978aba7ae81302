/** The files at a source's root that make it a Python project, as text (undefined when absent). */
export interface ProjectFiles {
  pyproject?: string;
  setupCfg?: string;
  setupPy?: string;
}

export function isPythonProject(files: ProjectFiles): boolean {
  return files.pyproject !== undefined || files.setupCfg !== undefined || files.setupPy !== undefined;
}

/** The lines of one `[table]` of an INI or TOML file. */
function table(text: string, name: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === `[${name}]`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

const QUOTED = /^\s*name\s*=\s*["']([^"']+)["']/m;
const BARE = /^\s*name\s*=\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*$/m;

/**
 * The distribution name a source declares, read statically: pyproject's [project] (or
 * [tool.poetry]) name, setup.cfg's [metadata] name, or a literal name= in setup.py.
 * Undefined when the name is computed at build time.
 */
export function projectName(files: ProjectFiles): string | undefined {
  if (files.pyproject) {
    for (const t of ['project', 'tool.poetry']) {
      const m = QUOTED.exec(table(files.pyproject, t) ?? '');
      if (m) return m[1];
    }
  }
  if (files.setupCfg) {
    const meta = table(files.setupCfg, 'metadata') ?? '';
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
export type VcsVersioning = { tool: 'setuptools_scm' | 'hatch-vcs' | 'pdm'; match: string[] } | { tool: 'other'; name: string };

const OTHER_TOOLS: [RegExp, string][] = [
  [/^\[tool\.versioningit\]/m, 'versioningit'],
  [/^\[tool\.setuptools-git-versioning\]/m, 'setuptools-git-versioning'],
  [/^\[tool\.poetry-dynamic-versioning\]/m, 'poetry-dynamic-versioning'],
  [/^\[tool\.versioneer\]/m, 'versioneer'],
];

export function vcsVersioning(files: ProjectFiles): VcsVersioning | undefined {
  const pyproject = files.pyproject ?? '';
  const value = (t: string | undefined, key: string) => new RegExp(`^\\s*${key}\\s*=\\s*["']([^"']*)["']`, 'm').exec(t ?? '')?.[1];
  const pdm = table(pyproject, 'tool.pdm.version');
  if (value(pdm, 'source') === 'scm') return { tool: 'pdm', match: [value(pdm, 'tag_filter') || '*.*'] };
  if (value(table(pyproject, 'tool.hatch.version'), 'source') === 'vcs') return { tool: 'hatch-vcs', match: ['*[0-9]*'] };
  const scm = table(pyproject, 'tool.setuptools_scm');
  const requires = /^\s*requires\s*=\s*\[([^\]]*)\]/m.exec(table(pyproject, 'build-system') ?? '')?.[1] ?? '';
  const setup = `${files.setupPy ?? ''}\n${files.setupCfg ?? ''}`;
  const dynamic = /^\s*dynamic\s*=\s*\[[^\]]*["']version["']/m.test(table(pyproject, 'project') ?? '');
  if (scm !== undefined || /flit_scm/.test(requires) || /\buse_scm_version\b/.test(setup) || (/setuptools[-_]scm/i.test(requires) && (dynamic || !files.pyproject?.includes('[project]')))) {
    // A describe command of the project's own: the tags it matches.
    const describe = value(scm, '(?:git_)?describe_command') ?? '';
    const match = [...describe.matchAll(/--match[= ]+(\S+)/g)].map((m) => m[1]!.replace(/^["']|["']$/g, ''));
    return { tool: 'setuptools_scm', match: match.length ? match : ['*[0-9]*'] };
  }
  for (const [re, name] of OTHER_TOOLS) if (re.test(pyproject)) return { tool: 'other', name };
  if (/\bpbr\s*=\s*True\b/.test(files.setupPy ?? '')) return { tool: 'other', name: 'pbr' };
  return undefined;
}
