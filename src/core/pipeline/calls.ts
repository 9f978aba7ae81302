// Which processes a pipeline runs, and under which names: what each name means in each script
// (its processes and workflows, and what it includes, under their aliases), the calls from the
// entry workflow (a process's qualified name is the chain of workflows invoking it), and the
// processes it never reaches.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Call, ProcessDecl, ScriptDecls } from './nf.js';

interface Component {
  kind: 'process' | 'workflow';
  file: string;
  name: string;
}

/** Per script (absolute path), what each name in it means. */
type Scopes = Map<string, Map<string, Component>>;

/** One process as a run calls it: its declaration, its script (relative to the pipeline), its alias and qualified name. */
export interface ProcessCall {
  decl: ProcessDecl;
  file: string;
  alias: string;
  fqn?: string;
  /** No call of it is reached from the entry workflow. */
  uncalled?: true;
}

/** Where an include points, as Nextflow resolves it: NAME.nf, NAME/main.nf, or the file itself. */
function modulePath(owner: string, from: string): string | undefined {
  if (!from.startsWith('./') && !from.startsWith('../') && !from.startsWith('/')) return undefined;
  const path = resolve(dirname(owner), from);
  if (!path.endsWith('.nf') && existsSync(`${path}.nf`)) return `${path}.nf`;
  if (existsSync(path) && statSync(path).isDirectory())
    return existsSync(join(path, 'main.nf')) ? join(path, 'main.nf') : undefined;
  return existsSync(path) ? path : undefined;
}

/** What each name means in each script: its own processes and workflows, and what it includes; an include nfhot cannot follow is noted. */
function scopesOf(scripts: Map<string, ScriptDecls>, root: string, notes: string[]): Scopes {
  const scopes: Scopes = new Map();
  for (const [file, decls] of scripts) {
    const scope = new Map<string, Component>();
    for (const p of decls.processes) scope.set(p.name, { kind: 'process', file, name: p.name });
    for (const w of decls.workflows) if (w.name) scope.set(w.name, { kind: 'workflow', file, name: w.name });
    scopes.set(file, scope);
  }
  for (const [file, decls] of scripts) {
    for (const inc of decls.includes) {
      const target = modulePath(file, inc.from);
      const component = target && scopes.get(target)?.get(inc.name);
      if (component) scopes.get(file)!.set(inc.alias, component);
      else if (!target && !inc.from.startsWith('plugin/'))
        notes.push(`${relative(root, file)}: include of ${inc.name} from '${inc.from}' not followed`);
    }
  }
  return scopes;
}

/**
 * The processes of the pipeline in `root`: those the entry workflow calls (a call under an `if`
 * that `taken` says is false is not), each under its qualified name; then those it does not reach,
 * once under each alias they are included as (or their own name when nothing includes them),
 * unqualified, and uncalled when there is an entry workflow (a module library has none).
 */
export function processCalls(
  root: string,
  scripts: Map<string, ScriptDecls>,
  taken: (call: Call) => boolean,
  notes: string[],
): ProcessCall[] {
  const scopes = scopesOf(scripts, root, notes);
  const declOf = (c: Component) => scripts.get(c.file)!.processes.find((p) => p.name === c.name)!;
  const calls: ProcessCall[] = [];
  const reached = new Set<string>();
  const walk = (file: string, from: Call[], prefix: string, depth: number) => {
    for (const name of new Set(from.filter(taken).map((c) => c.name))) {
      const c = scopes.get(file)?.get(name);
      if (!c || depth > 50) continue;
      const fqn = prefix ? `${prefix}:${name}` : name;
      if (c.kind === 'process') {
        calls.push({ decl: declOf(c), file: relative(root, c.file), alias: name, fqn });
        reached.add(`${c.file}\0${c.name}`);
      } else walk(c.file, scripts.get(c.file)!.workflows.find((w) => w.name === c.name)?.calls ?? [], fqn, depth + 1);
    }
  };
  const main = join(root, 'main.nf');
  for (const w of scripts.get(main)?.workflows.filter((w) => !w.name) ?? []) walk(main, w.calls, '', 0);
  const entry = scripts.has(main) && scripts.get(main)!.workflows.some((w) => !w.name);

  const aliases = new Map<string, { c: Component; names: Set<string> }>();
  for (const [file, scope] of scopes) {
    for (const [alias, c] of scope) {
      if (c.kind !== 'process' || reached.has(`${c.file}\0${c.name}`)) continue;
      const known = aliases.get(`${c.file}\0${c.name}`) ?? { c, names: new Set<string>() };
      if (c.file !== file) known.names.add(alias);
      aliases.set(`${c.file}\0${c.name}`, known);
    }
  }
  for (const { c, names } of aliases.values()) {
    for (const alias of names.size ? names : [c.name])
      calls.push({
        decl: declOf(c),
        file: relative(root, c.file),
        alias,
        ...(entry ? { uncalled: true as const } : {}),
      });
  }
  return calls;
}
