import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layers, and where each may reach: cli → commands → core ← adapters (the cli wires the adapters in).
const MAY_IMPORT: Record<string, string[]> = {
  cli: ['cli', 'commands', 'core', 'adapters'],
  commands: ['commands', 'core'],
  core: ['core'],
  adapters: ['adapters', 'core'],
};
// The core reaches Docker, git and host programs only through its ports.
const ADAPTER_PACKAGES = ['dockerode', 'execa', 'yargs'];

const SRC = resolve('src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

/** Every import of every source file: relative ones resolved to a path under src/, packages by name. */
const imports = files(SRC).map((file) => {
  const specs = [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)].map((m) => m[1]!);
  return {
    file: relative(SRC, file),
    local: specs.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts')),
    packages: specs.filter((s) => !s.startsWith('.') && !s.startsWith('node:')),
  };
});
const layer = (path: string) => path.split('/')[0]!;

describe('the architecture', () => {
  it('puts every source file in a layer', () => {
    expect(imports.map((i) => layer(i.file)).filter((l) => !(l in MAY_IMPORT))).toEqual([]);
  });

  it('points dependencies one way: cli → commands → core ← adapters', () => {
    const wrong = imports.flatMap((i) => i.local.filter((t) => !MAY_IMPORT[layer(i.file)]!.includes(layer(t))).map((t) => `${i.file} → ${t}`));
    expect(wrong).toEqual([]);
  });

  it('keeps Docker, git and the CLI library out of the core', () => {
    const wrong = imports.filter((i) => layer(i.file) === 'core').flatMap((i) => i.packages.filter((p) => ADAPTER_PACKAGES.includes(p)).map((p) => `${i.file} → ${p}`));
    expect(wrong).toEqual([]);
  });

  it('has no import cycle between folders, nor between files', () => {
    const cycles = (edges: Map<string, Set<string>>): string[] => {
      const found: string[] = [];
      const state = new Map<string, 'open' | 'done'>();
      const visit = (node: string, path: string[]) => {
        if (state.get(node) === 'done') return;
        if (state.get(node) === 'open') return void found.push([...path.slice(path.indexOf(node)), node].join(' → '));
        state.set(node, 'open');
        for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
        state.set(node, 'done');
      };
      for (const node of edges.keys()) visit(node, []);
      return found;
    };
    const byFile = new Map(imports.map((i) => [i.file, new Set(i.local)]));
    const byFolder = new Map<string, Set<string>>();
    for (const i of imports) {
      const from = dirname(i.file);
      const to = byFolder.get(from) ?? new Set<string>();
      for (const t of i.local) if (dirname(t) !== from) to.add(dirname(t));
      byFolder.set(from, to);
    }
    expect(cycles(byFolder)).toEqual([]);
    expect(cycles(byFile)).toEqual([]);
  });
});
