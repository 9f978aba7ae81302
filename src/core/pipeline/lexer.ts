/**
 * A tokenizer for the Groovy-like text of Nextflow scripts and config files: enough to find
 * blocks, statements and literal values without running anything. Strings (with their `${}`
 * interpolations), comments and slashy regexes are single tokens, so braces inside them never
 * confuse block matching.
 */
export interface Token {
  type: 'ident' | 'string' | 'number' | 'punct' | 'newline';
  /** For strings: the unquoted text (with `${...}` kept as written); else the token text. */
  value: string;
  /** The token exactly as in the source. */
  raw: string;
  start: number;
  end: number;
  line: number;
  /** A double-quoted string with `$` interpolation. */
  interpolated?: boolean;
}

const PUNCT3 = ['==~', '<=>', '...', '?.@'];
const PUNCT2 = [
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '=~',
  '?:',
  '?.',
  '*.',
  '..',
  '->',
  '<<',
  '>>',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '**',
];
/** After these a `/` starts a slashy string, not a division. */
const BEFORE_REGEX = new Set([
  '(',
  ',',
  '=',
  '~',
  ':',
  '[',
  '{',
  '?',
  '!',
  '&&',
  '||',
  '==',
  '!=',
  '=~',
  '==~',
  'return',
  '\n',
]);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const push = (type: Token['type'], start: number, value: string, extra: Partial<Token> = {}) =>
    tokens.push({
      type,
      value,
      raw: text.slice(start, i),
      start,
      end: i,
      line: line - (text.slice(start, i).match(/\n/g)?.length ?? 0),
      ...extra,
    });
  if (text.startsWith('#!')) while (i < text.length && text[i] !== '\n') i++;
  while (i < text.length) {
    const c = text[i]!;
    const start = i;
    if (c === '\n') {
      i++;
      line++;
      push('newline', start, '\n');
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '\\' && text[i + 1] === '\n') {
      i += 2; // line continuation
      line++;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
      line += text.slice(start, i).match(/\n/g)?.length ?? 0;
    } else if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      i = readString(text, i, triple ? c.repeat(3) : c);
      line += text.slice(start, i).match(/\n/g)?.length ?? 0;
      const quote = triple ? 3 : 1;
      const inner = text.slice(start + quote, i - quote);
      push('string', start, inner, c === '"' && /\$[{\w]/.test(inner) ? { interpolated: true } : {});
    } else if (c === '/' && slashyAllowed(tokens) && text[i + 1] !== ' ' && text[i + 1] !== '\n') {
      i = readString(text, i, '/');
      line += text.slice(start, i).match(/\n/g)?.length ?? 0;
      push('string', start, text.slice(start + 1, i - 1));
    } else if (/[A-Za-z_$]/.test(c)) {
      while (i < text.length && /[\w$]/.test(text[i]!)) i++;
      push('ident', start, text.slice(start, i));
    } else if (/\d/.test(c)) {
      while (i < text.length && /[\w.]/.test(text[i]!) && !(text[i] === '.' && text[i + 1] === '.')) i++;
      push('number', start, text.slice(start, i));
    } else {
      const op = PUNCT3.find((p) => text.startsWith(p, i)) ?? PUNCT2.find((p) => text.startsWith(p, i)) ?? c;
      i += op.length;
      push('punct', start, op);
    }
  }
  return tokens;
}

function slashyAllowed(tokens: Token[]): boolean {
  const prev = tokens[tokens.length - 1];
  return (
    !prev ||
    (prev.type === 'punct' && BEFORE_REGEX.has(prev.value)) ||
    (prev.type === 'ident' && prev.value === 'return') ||
    prev.type === 'newline'
  );
}

/** The index just past a string that starts at `i` with `quote`, `${...}` nesting included. */
function readString(text: string, i: number, quote: string): number {
  i += quote.length;
  const interpolates = quote[0] === '"';
  while (i < text.length) {
    if (text[i] === '\\') {
      i += 2;
    } else if (text.startsWith(quote, i)) {
      return i + quote.length;
    } else if (interpolates && text.startsWith('${', i)) {
      i = skipInterpolation(text, i + 2);
    } else if (quote.length === 1 && quote !== '/' && text[i] === '\n') {
      return i; // an unterminated one-line string ends at the line
    } else {
      i++;
    }
  }
  return i;
}

function skipInterpolation(text: string, i: number): number {
  let depth = 1;
  while (i < text.length && depth > 0) {
    const c = text[i]!;
    if (c === '{') depth++;
    else if (c === '}') depth--;
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      i = readString(text, i, triple ? c.repeat(3) : c);
      continue;
    }
    i++;
  }
  return i;
}

const OPENERS: Record<string, string> = { '{': '}', '(': ')', '[': ']' };

/** The index of the token closing the bracket opened at `open`. */
export function matching(tokens: Token[], open: number): number {
  const stack: string[] = [];
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'punct') continue;
    if (OPENERS[t.value]) stack.push(OPENERS[t.value]!);
    else if (t.value === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  return tokens.length - 1;
}

/** Operators that, ending a line or starting the next, carry an expression over the newline. */
const CONTINUES_AFTER = new Set([
  '?',
  ':',
  '+',
  '-',
  '*',
  '&&',
  '||',
  '==',
  '!=',
  '=',
  ',',
  '.',
  '?.',
  '?:',
  '->',
  '=~',
  '==~',
  'in',
]);
const CONTINUES_BEFORE = new Set(['?', ':', '.', '?.', '?:', '&&', '||', '+', '*.']);

/**
 * Splits tokens into statements: at `;` or at a newline outside brackets, unless an operator
 * ends the line or starts the next one. Newline tokens are dropped from the result.
 */
export function statements(tokens: Token[], from = 0, to = tokens.length): Token[][] {
  const result: Token[][] = [];
  let current: Token[] = [];
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.type === 'punct' && OPENERS[t.value]) {
      const close = Math.min(matching(tokens, i), to - 1);
      for (let j = i; j <= close; j++) if (tokens[j]!.type !== 'newline') current.push(tokens[j]!);
      i = close;
      continue;
    }
    const ends =
      (t.type === 'punct' && t.value === ';') || (t.type === 'newline' && !continues(tokens, i, to, current));
    if (ends) {
      if (current.length) result.push(current);
      current = [];
    } else if (t.type !== 'newline') current.push(t);
  }
  if (current.length) result.push(current);
  return result;
}

function continues(tokens: Token[], i: number, to: number, current: Token[]): boolean {
  const last = current[current.length - 1];
  if (!last) return false;
  if (
    (last.type === 'punct' || last.type === 'ident') &&
    CONTINUES_AFTER.has(last.value) &&
    !(last.type === 'ident' && last.value !== 'in')
  )
    return true;
  let j = i + 1;
  while (j < to && tokens[j]!.type === 'newline') j++;
  const next = tokens[j];
  return next !== undefined && next.type === 'punct' && CONTINUES_BEFORE.has(next.value);
}

/** The source text a run of tokens covers. */
export function textOf(source: string, tokens: Token[]): string {
  if (tokens.length === 0) return '';
  return source.slice(tokens[0]!.start, tokens[tokens.length - 1]!.end);
}
