import { matching, statements, textOf, tokenize, type Token } from './lexer.js';

/** `include { NAME as ALIAS } from 'path'`: one name brought into a script. */
export interface IncludeDecl {
  name: string;
  alias: string;
  from: string;
}

/** A value as written: a plain string, or source text nfhot does not evaluate. */
export interface Written {
  text: string;
  line: number;
}

export interface ProcessDecl {
  name: string;
  labels: string[];
  /** The `container` directive as written, when the process has one. */
  container?: Written;
  /** The `conda` directive as written (nf-core: `"${moduleDir}/environment.yml"`): what Wave builds from when its strategy puts conda first. */
  conda?: Written;
  line: number;
}

export interface WorkflowDecl {
  /** Undefined for the entry workflow. */
  name?: string;
  /** Names used in its body that may be calls of processes or workflows. */
  calls: string[];
}

export interface ScriptDecls {
  includes: IncludeDecl[];
  processes: ProcessDecl[];
  workflows: WorkflowDecl[];
}

const SECTIONS = new Set(['input', 'output', 'script', 'shell', 'exec', 'when', 'stub', 'topic']);

function parseInclude(tokens: Token[], open: number, close: number): { name: string; alias: string }[] {
  const names: { name: string; alias: string }[] = [];
  for (const stmt of statements(tokens, open + 1, close)) {
    // Items are separated by ';' or newlines: `A; B as C` or one per line.
    for (let i = 0; i < stmt.length; i++) {
      const t = stmt[i]!;
      if (t.type !== 'ident') continue;
      if (stmt[i + 1]?.value === 'as' && stmt[i + 2]?.type === 'ident') {
        names.push({ name: t.value, alias: stmt[i + 2]!.value });
        i += 2;
      } else names.push({ name: t.value, alias: t.value });
    }
  }
  return names;
}

function parseProcess(source: string, tokens: Token[], name: string, open: number, close: number): ProcessDecl {
  const decl: ProcessDecl = { name, labels: [], line: tokens[open]!.line };
  for (const stmt of statements(tokens, open + 1, close)) {
    const [head, next] = stmt;
    if (head?.type !== 'ident') continue;
    if (next?.value === ':' && SECTIONS.has(head.value)) break; // directives come before the sections
    const rest = stmt.slice(1);
    if ((head.value === 'container' || head.value === 'conda') && rest.length) {
      const inner = rest[0]!.value === '(' && rest[rest.length - 1]!.value === ')' ? rest.slice(1, -1) : rest;
      decl[head.value] = { text: textOf(source, inner), line: head.line };
    } else if (head.value === 'label') {
      for (const t of rest) if (t.type === 'string' && !t.interpolated) decl.labels.push(t.value);
    }
  }
  return decl;
}

function parseWorkflow(tokens: Token[], name: string | undefined, open: number, close: number): WorkflowDecl {
  const calls = new Set<string>();
  for (let i = open + 1; i < close; i++) {
    const t = tokens[i]!;
    // A component is used by name: `FOO(...)`, `ch | FOO`, `FOO.out`; `x.FOO` is a member, not a call.
    if (t.type === 'ident' && /^[A-Za-z_]\w*$/.test(t.value) && tokens[i - 1]?.value !== '.' && tokens[i - 1]?.value !== '?.') calls.add(t.value);
  }
  return { ...(name ? { name } : {}), calls: [...calls] };
}

/** Reads what nfhot needs of one Nextflow script: its includes, processes and workflows. */
export function parseScript(source: string): ScriptDecls {
  const tokens = tokenize(source);
  const decls: ScriptDecls = { includes: [], processes: [], workflows: [] };
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'punct' && (t.value === '{' || t.value === '(' || t.value === '[')) depth++;
    else if (t.type === 'punct' && (t.value === '}' || t.value === ')' || t.value === ']')) depth--;
    if (depth !== 0 || t.type !== 'ident') continue;
    const atStart = i === 0 || tokens[i - 1]!.type === 'newline' || tokens[i - 1]!.value === ';' || tokens[i - 1]!.value === '}';
    if (!atStart) continue;
    if (t.value === 'include' && tokens[i + 1]?.value === '{') {
      const close = matching(tokens, i + 1);
      const from = tokens[close + 1]?.value === 'from' && tokens[close + 2]?.type === 'string' ? tokens[close + 2]!.value : undefined;
      if (from !== undefined) for (const n of parseInclude(tokens, i + 1, close)) decls.includes.push({ ...n, from });
      i = close;
    } else if (t.value === 'process' && tokens[i + 1]?.type === 'ident' && tokens[i + 2]?.value === '{') {
      const close = matching(tokens, i + 2);
      decls.processes.push(parseProcess(source, tokens, tokens[i + 1]!.value, i + 2, close));
      i = close;
    } else if (t.value === 'workflow') {
      const named = tokens[i + 1]?.type === 'ident';
      const open = i + (named ? 2 : 1);
      if (tokens[open]?.value !== '{') continue;
      const close = matching(tokens, open);
      decls.workflows.push(parseWorkflow(tokens, named ? tokens[i + 1]!.value : undefined, open, close));
      i = close;
    }
  }
  return decls;
}
