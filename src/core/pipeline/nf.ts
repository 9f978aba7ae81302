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
  /** The `executor` directive as written: where its tasks run. */
  executor?: Written;
  line: number;
}

/** A name used in a workflow's body that may be a call of a process or workflow, under the `if` conditions around it. */
export interface Call {
  name: string;
  /** Conditions (source text) that all hold where it is called: `params.platform == 'illumina'`, `!(params.skip)`. */
  when: string[];
}

export interface WorkflowDecl {
  /** Undefined for the entry workflow. */
  name?: string;
  calls: Call[];
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

/** `if (c) {…} else if (d) {…} else {…}` from its `if`: each branch's condition (undefined for `else`) and its body. */
function ifChain(
  tokens: Token[],
  at: number,
): { branches: { cond?: Token[]; body: [number, number] }[]; end: number } | undefined {
  const branches: { cond?: Token[]; body: [number, number] }[] = [];
  let i = at;
  for (;;) {
    let cond: Token[] | undefined;
    if (tokens[i]?.value === 'if') {
      const open = next(tokens, i);
      if (tokens[open]?.value !== '(') return undefined;
      const close = matching(tokens, open);
      cond = tokens.slice(open + 1, close).filter((t) => t.type !== 'newline');
      i = close;
    }
    const brace = next(tokens, i);
    if (tokens[brace]?.value !== '{') return undefined;
    const end = matching(tokens, brace);
    branches.push({ ...(cond ? { cond } : {}), body: [brace + 1, end] });
    const after = next(tokens, end);
    if (!cond || tokens[after]?.value !== 'else') return { branches, end };
    const then = next(tokens, after);
    i = tokens[then]?.value === 'if' ? then : after;
  }
}

/** The index of the next token that is not a newline. */
function next(tokens: Token[], i: number): number {
  let j = i + 1;
  while (tokens[j]?.type === 'newline') j++;
  return j;
}

/** The conditions of a chain's branches, each branch's own and the negation of those before it. */
function branchConditions(source: string, chain: { cond?: Token[] }[]): string[][] {
  const before: string[] = [];
  return chain.map((b) => {
    const when = [...before, ...(b.cond ? [textOf(source, b.cond)] : [])];
    if (b.cond) before.push(`!(${textOf(source, b.cond)})`);
    return when;
  });
}

/**
 * A process's directives: `container`, `conda`, `executor` and `label` statements, also inside an `if`/`else`
 * (older nf-core modules choose their container so: the choice becomes a ternary to evaluate).
 */
function parseDirectives(source: string, tokens: Token[], from: number, to: number, decl: ProcessDecl): void {
  for (let i = from; i < to; i++) {
    const head = tokens[i]!;
    const atStart =
      i === from ||
      tokens[i - 1]!.type === 'newline' ||
      tokens[i - 1]!.value === ';' ||
      tokens[i - 1]!.value === '}' ||
      tokens[i - 1]!.value === '{';
    if (head.type !== 'ident' || !atStart) continue;
    if (SECTIONS.has(head.value) && tokens[i + 1]?.value === ':') return; // directives come before the sections
    if (head.value === 'if') {
      const chain = ifChain(tokens, i);
      if (!chain) continue;
      const whens = branchConditions(source, chain.branches);
      const chosen = chain.branches.map((b) => {
        const inner: ProcessDecl = { name: decl.name, labels: decl.labels, line: decl.line };
        parseDirectives(source, tokens, b.body[0], b.body[1], inner);
        return inner.container;
      });
      if (chosen.some(Boolean)) {
        // The last branch first: with no `else`, the container set before the `if` (or none) stays.
        let text = decl.container ? `(${decl.container.text})` : 'null';
        for (let k = chain.branches.length - 1; k >= 0; k--) {
          const own = chosen[k] ? `(${chosen[k]!.text})` : text;
          text = chain.branches[k]!.cond ? `(${whens[k]!.at(-1)}) ? ${own} : ${text}` : own;
        }
        decl.container = { text, line: head.line };
      }
      i = chain.end;
      continue;
    }
    const [stmt] = statements(tokens, i, to);
    if (!stmt) continue;
    const rest = stmt.slice(1);
    if ((head.value === 'container' || head.value === 'conda' || head.value === 'executor') && rest.length) {
      const inner = rest[0]!.value === '(' && rest[rest.length - 1]!.value === ')' ? rest.slice(1, -1) : rest;
      decl[head.value] = { text: textOf(source, inner), line: head.line };
    } else if (head.value === 'label') {
      for (const t of rest) if (t.type === 'string' && !t.interpolated) decl.labels.push(t.value);
    }
    i = tokens.indexOf(stmt[stmt.length - 1]!);
  }
}

function parseProcess(source: string, tokens: Token[], name: string, open: number, close: number): ProcessDecl {
  const decl: ProcessDecl = { name, labels: [], line: tokens[open]!.line };
  parseDirectives(source, tokens, open + 1, close, decl);
  return decl;
}

/** The calls in a workflow's body, with the `if` conditions around them; includes found there are the script's. */
function parseWorkflow(
  source: string,
  tokens: Token[],
  name: string | undefined,
  open: number,
  close: number,
  includes: IncludeDecl[],
): WorkflowDecl {
  const calls: Call[] = [];
  const visit = (from: number, to: number, when: string[]) => {
    for (let i = from; i < to; i++) {
      const t = tokens[i]!;
      const atStart =
        tokens[i - 1]?.type === 'newline' ||
        tokens[i - 1]?.value === ';' ||
        tokens[i - 1]?.value === '{' ||
        tokens[i - 1]?.value === '}';
      if (t.type === 'ident' && atStart && t.value === 'include' && tokens[next(tokens, i)]?.value === '{') {
        i = parseIncludeAt(tokens, i, includes);
        continue;
      }
      if (t.type === 'ident' && atStart && t.value === 'if') {
        const chain = ifChain(tokens, i);
        if (chain) {
          const whens = branchConditions(source, chain.branches);
          chain.branches.forEach((b, k) => {
            for (const c of b.cond ?? []) addCall(tokens.indexOf(c), when); // a call in the condition runs whichever branch is taken
            visit(b.body[0], b.body[1], [...when, ...whens[k]!]);
          });
          i = chain.end;
          continue;
        }
      }
      addCall(i, when);
    }
  };
  // A component is used by name: `FOO(...)`, `ch | FOO`, `FOO.out`; `x.FOO` is a member, not a call.
  const addCall = (i: number, when: string[]) => {
    const t = tokens[i]!;
    if (
      t.type === 'ident' &&
      /^[A-Za-z_]\w*$/.test(t.value) &&
      tokens[i - 1]?.value !== '.' &&
      tokens[i - 1]?.value !== '?.'
    )
      calls.push({ name: t.value, when });
  };
  visit(open + 1, close, []);
  return { ...(name ? { name } : {}), calls };
}

/** Reads `include { … } from '…'` at `i`; returns the index of its last token. */
function parseIncludeAt(tokens: Token[], i: number, includes: IncludeDecl[]): number {
  const open = next(tokens, i);
  const close = matching(tokens, open);
  const from =
    tokens[close + 1]?.value === 'from' && tokens[close + 2]?.type === 'string' ? tokens[close + 2]!.value : undefined;
  if (from !== undefined) for (const n of parseInclude(tokens, open, close)) includes.push({ ...n, from });
  return from !== undefined ? close + 2 : close;
}

/**
 * Reads what nfhot needs of one Nextflow script: its includes, processes and workflows, also those
 * declared inside a top-level `if` (taken whichever branch a run takes).
 */
export function parseScript(source: string): ScriptDecls {
  const tokens = tokenize(source);
  const decls: ScriptDecls = { includes: [], processes: [], workflows: [] };
  const scan = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const t = tokens[i]!;
      if (t.type === 'punct' && (t.value === '{' || t.value === '(' || t.value === '[')) {
        i = matching(tokens, i);
        continue;
      }
      const atStart =
        i === from || tokens[i - 1]!.type === 'newline' || tokens[i - 1]!.value === ';' || tokens[i - 1]!.value === '}';
      if (t.type !== 'ident' || !atStart) continue;
      if (t.value === 'include' && tokens[i + 1]?.value === '{') {
        i = parseIncludeAt(tokens, i, decls.includes);
      } else if (t.value === 'if') {
        const chain = ifChain(tokens, i);
        if (!chain) continue;
        for (const b of chain.branches) scan(b.body[0], b.body[1]);
        i = chain.end;
      } else if (t.value === 'process' && tokens[i + 1]?.type === 'ident' && tokens[i + 2]?.value === '{') {
        const close = matching(tokens, i + 2);
        decls.processes.push(parseProcess(source, tokens, tokens[i + 1]!.value, i + 2, close));
        i = close;
      } else if (t.value === 'workflow') {
        const named = tokens[i + 1]?.type === 'ident';
        const open = i + (named ? 2 : 1);
        if (tokens[open]?.value !== '{') continue;
        const close = matching(tokens, open);
        decls.workflows.push(
          parseWorkflow(source, tokens, named ? tokens[i + 1]!.value : undefined, open, close, decls.includes),
        );
        i = close;
      }
    }
  };
  scan(0, tokens.length);
  return decls;
}
