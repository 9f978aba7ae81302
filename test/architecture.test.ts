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
// The core by concern, each reaching only the concerns below it: the ports (what it needs of Docker,
// git and host programs) and base (context, errors, the reporter, files) under everything; images
// (references, labels, state, locks, SIF files); then sources, interpreters, the loop (watch, a
// task, diff, export) and the pipeline beside each other; patching on top.
const CORE_MAY_IMPORT: Record<string, string[]> = {
  ports: ['ports'],
  base: ['base', 'ports'],
  image: ['image', 'base', 'ports'],
  source: ['source', 'image', 'base', 'ports'],
  interpreter: ['interpreter', 'image', 'base', 'ports'],
  loop: ['loop', 'image', 'base', 'ports'],
  pipeline: ['pipeline', 'image', 'base', 'ports'],
  patch: ['patch', 'source', 'interpreter', 'pipeline', 'image', 'base', 'ports'],
};
// The core reaches Docker, git and host programs only through its ports.
const ADAPTER_PACKAGES = ['dockerode', 'execa', 'yargs'];

const SRC = resolve('src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/** Every import of every source file: relative ones resolved to a path under src/, packages by name. */
const imports = files(SRC).map((file) => {
  const specs = [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)].map(
    (m) => m[1]!,
  );
  return {
    file: relative(SRC, file),
    local: specs
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts')),
    packages: specs.filter((s) => !s.startsWith('.') && !s.startsWith('node:')),
  };
});
const layer = (path: string) => path.split('/')[0]!;
/** A core file's concern (core/<concern>/file.ts); undefined for a file loose in core/. */
const concern = (path: string) =>
  layer(path) === 'core' && path.split('/').length > 2 ? path.split('/')[1] : undefined;

describe('the architecture', () => {
  it('puts every source file in a layer', () => {
    expect(imports.map((i) => layer(i.file)).filter((l) => !(l in MAY_IMPORT))).toEqual([]);
  });

  it('points dependencies one way: cli → commands → core ← adapters', () => {
    const wrong = imports.flatMap((i) =>
      i.local.filter((t) => !MAY_IMPORT[layer(i.file)]!.includes(layer(t))).map((t) => `${i.file} → ${t}`),
    );
    expect(wrong).toEqual([]);
  });

  it('groups the core by concern, each reaching only the concerns below it', () => {
    const core = imports.filter((i) => layer(i.file) === 'core');
    expect(core.filter((i) => !concern(i.file) || !(concern(i.file)! in CORE_MAY_IMPORT)).map((i) => i.file)).toEqual(
      [],
    );
    const wrong = core.flatMap((i) =>
      i.local
        .filter((t) => layer(t) === 'core' && !CORE_MAY_IMPORT[concern(i.file)!]?.includes(concern(t) ?? ''))
        .map((t) => `${i.file} → ${t}`),
    );
    expect(wrong).toEqual([]);
  });

  it('keeps Docker, git and the CLI library out of the core', () => {
    const wrong = imports
      .filter((i) => layer(i.file) === 'core')
      .flatMap((i) => i.packages.filter((p) => ADAPTER_PACKAGES.includes(p)).map((p) => `${i.file} → ${p}`));
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
