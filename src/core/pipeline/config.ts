import { statements, textOf, tokenize, type Token } from './lexer.js';
import type { Written } from './nf.js';

/** One setting of a config file: its full path of scopes (selectors included) and its value as written. */
export interface ConfigEntry {
  /** e.g. ['docker', 'registry'], ['process', 'withName:FASTQC', 'container'], ['profiles', 'docker', 'docker', 'enabled']. */
  path: string[];
  value: Written;
  file: string;
}

/** An `includeConfig` whose source is a plain path, to be read at this point with this scope. */
export interface ConfigInclude {
  scope: string[];
  path: string;
  line: number;
}

/** A config file read in order: settings and includes interleaved, as they apply. */
export type ConfigItem =
  | { kind: 'entry'; entry: ConfigEntry }
  | { kind: 'include'; include: ConfigInclude }
  | { kind: 'skipped'; what: string; line: number }
  /** A block opened (`profiles { test { } }`): an empty profile is still one Nextflow accepts. */
  | { kind: 'block'; path: string[] };

/** `includeConfig "${projectDir}/conf/x.config"` and the like: a path once the project directory is known. */
function includePath(t: Token[]): string | undefined {
  if (t.length !== 1 || t[0]!.type !== 'string') return undefined;
  const value = t[0]!.value.replace(/\$\{?(projectDir|baseDir)\}?/g, PROJECT_DIR);
  return /\$[{\w]/.test(value) ? undefined : value;
}

/** `a.b.c` as names, when the tokens are exactly that. */
function dottedNames(t: Token[]): string[] | undefined {
  if (t.length === 0 || t.length % 2 === 0) return undefined;
  const ok = t.every((x, i) => (i % 2 === 0 ? x.type === 'ident' || x.type === 'string' : x.value === '.'));
  return ok ? t.filter((_, i) => i % 2 === 0).map((x) => x.value) : undefined;
}

/** `withName: 'PATTERN'`, `withName: NAME`, `withLabel: "x|y"`: the key Nextflow keeps for the selector. */
function selectorKey(t: Token[]): string | undefined {
  const [kind, colon, pattern] = t;
  if (
    t.length !== 3 ||
    kind?.type !== 'ident' ||
    (kind.value !== 'withName' && kind.value !== 'withLabel') ||
    colon?.value !== ':'
  )
    return undefined;
  if (pattern?.type !== 'string' && pattern?.type !== 'ident') return undefined;
  return `${kind.value}:${pattern.value.trim()}`;
}

function walk(
  source: string,
  tokens: Token[],
  from: number,
  to: number,
  scope: string[],
  file: string,
  out: ConfigItem[],
): void {
  for (const stmt of statements(tokens, from, to)) {
    const head = stmt[0]!;
    const last = stmt[stmt.length - 1]!;
    if (head.type === 'ident' && head.value === 'includeConfig') {
      const path = includePath(stmt.slice(1));
      out.push(
        path
          ? { kind: 'include', include: { scope, path, line: head.line } }
          : { kind: 'skipped', what: textOf(source, stmt), line: head.line },
      );
      continue;
    }
    const eq = stmt.findIndex((t) => t.type === 'punct' && t.value === '=');
    const assigned = eq > 0 ? dottedNames(stmt.slice(0, eq)) : undefined;
    if (assigned) {
      out.push({
        kind: 'entry',
        entry: {
          path: [...scope, ...assigned],
          value: { text: textOf(source, stmt.slice(eq + 1)), line: head.line },
          file,
        },
      });
      continue;
    }
    const open = last.value === '}' ? stmt.findIndex((t) => t.value === '{') : -1;
    const block = open > 0 ? (selectorKey(stmt.slice(0, open)) ?? dottedNames(stmt.slice(0, open))) : undefined;
    if (block) {
      out.push({ kind: 'block', path: [...scope, ...(typeof block === 'string' ? [block] : block)] });
      walk(
        source,
        tokens,
        tokens.indexOf(stmt[open]!) + 1,
        tokens.indexOf(last),
        [...scope, ...(typeof block === 'string' ? [block] : block)],
        file,
        out,
      );
      continue;
    }
    // Legacy Groovy (def, if, try, functions) sets nothing nfhot can read statically.
    out.push({ kind: 'skipped', what: textOf(source, stmt).split('\n')[0]!.slice(0, 100), line: head.line });
  }
}

/** Stands for the project directory in an include path. */
export const PROJECT_DIR = '\0project\0';

/** Reads a config file into its settings and includes, in order. */
export function parseConfig(source: string, file: string): ConfigItem[] {
  const tokens = tokenize(source);
  const out: ConfigItem[] = [];
  walk(source, tokens, 0, tokens.length, [], file, out);
  return out;
}
