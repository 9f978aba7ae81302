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
