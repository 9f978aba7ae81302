/**
 * Evaluates the small Groovy expressions pipelines choose containers with — the engine ternary,
 * an `if` on `params`, a closure over `workflow.profile` or `task.ext` — from what is known before
 * a run: the selected profiles, their container engine, the params the config sets, the process's
 * `ext` settings. Anything else (a file, `task.cpus`, a method nfhot does not know) is Unknown,
 * naming what it depends on; `false && unknown` is still false, as Groovy would find.
 */
import { matching, tokenize, type Token } from './lexer.js';

export class Unknown {
  constructor(readonly on: string[]) {}
}

export type Value = string | number | boolean | null | Value[];
export type Result = Value | Unknown;

/** What is known before the run. */
export interface Facts {
  /** workflow.containerEngine: the engine the profiles enable, null without one. */
  engine: string | null;
  /** workflow.profile: the profiles, comma-joined ('standard' when none). */
  profile: string;
  /** A param as the config (and the script's defaults) set it; null when nothing sets it. */
  param(name: string): Result;
  /** task.ext.NAME as the process's settings give it; absent outside a task's context. */
  ext?(name: string): Result;
}

const unknown = (...results: Result[]) =>
  new Unknown([...new Set(results.flatMap((r) => (r instanceof Unknown ? r.on : [])))]);

/** Groovy truth. */
export function truthy(v: Value): boolean {
  if (v === null || v === false || v === '' || v === 0) return false;
  return !(Array.isArray(v) && v.length === 0);
}

const equal = (a: Value, b: Value): boolean =>
  Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => equal(x, b[i]!)) : a === b;

const show = (v: Value): string => (Array.isArray(v) ? `[${v.map(show).join(', ')}]` : String(v));

/** The methods of strings and lists pipelines test profiles and params with. */
function call(target: Value, method: string, args: Value[]): Result {
  const [a] = args;
  if (typeof target === 'string') {
    if (method === 'contains' && typeof a === 'string') return target.includes(a);
    if (method === 'startsWith' && typeof a === 'string') return target.startsWith(a);
    if (method === 'endsWith' && typeof a === 'string') return target.endsWith(a);
    if (method === 'toLowerCase' && !args.length) return target.toLowerCase();
    if (method === 'toUpperCase' && !args.length) return target.toUpperCase();
    if (method === 'trim' && !args.length) return target.trim();
    if (method === 'toString' && !args.length) return target;
    if ((method === 'tokenize' || method === 'split') && (a === undefined || typeof a === 'string')) {
      const parts =
        a === undefined
          ? target.split(/\s+/)
          : method === 'tokenize'
            ? target.split(new RegExp(`[${a.replace(/[\\\]^-]/g, '\\$&')}]`))
            : target.split(a);
      return method === 'tokenize' ? parts.filter((p) => p !== '') : parts;
    }
    if (method === 'isEmpty' && !args.length) return target === '';
  }
  if (Array.isArray(target)) {
    if (method === 'contains' && a !== undefined) return target.some((x) => equal(x, a));
    if (method === 'size' && !args.length) return target.length;
    if (method === 'isEmpty' && !args.length) return target.length === 0;
  }
  if (target === null && method === 'toString' && !args.length) return 'null';
  return new Unknown([`.${method}()`]);
}

class Parser {
  private i = 0;
  constructor(
    private readonly t: Token[],
    private readonly facts: Facts,
  ) {}

  run(): Result {
    const v = this.ternary();
    return this.i === this.t.length ? v : new Unknown(['an expression nfhot does not evaluate']);
  }

  private peek(value: string): boolean {
    const t = this.t[this.i];
    return t !== undefined && (t.type === 'punct' || t.type === 'ident') && t.value === value;
  }

  private take(value: string): boolean {
    if (!this.peek(value)) return false;
    this.i++;
    return true;
  }

  private ternary(): Result {
    const cond = this.or();
    if (this.take('?:')) {
      const other = this.ternary();
      if (cond instanceof Unknown) return unknown(cond, other);
      return truthy(cond) ? cond : other;
    }
    if (!this.take('?')) return cond;
    const yes = this.ternary();
    if (!this.take(':')) return new Unknown(['a ternary without its ":"']);
    const no = this.ternary();
    if (cond instanceof Unknown)
      return !(yes instanceof Unknown) && !(no instanceof Unknown) && equal(yes, no) ? yes : unknown(cond, yes, no);
    return truthy(cond) ? yes : no;
  }

  private or(): Result {
    let left = this.and();
    while (this.take('||')) {
      const right = this.and();
      if (!(left instanceof Unknown) && truthy(left)) left = true;
      else if (!(right instanceof Unknown) && truthy(right)) left = true;
      else left = left instanceof Unknown || right instanceof Unknown ? unknown(left, right) : false;
    }
    return left;
  }

  private and(): Result {
    let left = this.equality();
    while (this.take('&&')) {
      const right = this.equality();
      if (!(left instanceof Unknown) && !truthy(left)) left = false;
      else if (!(right instanceof Unknown) && !truthy(right)) left = false;
      else left = left instanceof Unknown || right instanceof Unknown ? unknown(left, right) : true;
    }
    return left;
  }

  private equality(): Result {
    let left = this.additive();
    for (;;) {
      const op = ['==', '!=', 'in', '=~', '==~', '<', '>', '<=', '>='].find((o) => this.peek(o));
      if (!op) return left;
      this.i++;
      const right = this.additive();
      if (left instanceof Unknown || right instanceof Unknown) left = unknown(left, right);
      else if (op === '==') left = equal(left, right);
      else if (op === '!=') left = !equal(left, right);
      else if (op === 'in')
        left = Array.isArray(right)
          ? right.some((x) => equal(x, left as Value))
          : typeof right === 'string' && typeof left === 'string'
            ? right.includes(left)
            : new Unknown(['in']);
      else if (op.startsWith('<') || op.startsWith('>')) {
        const [a, b] = [left, right];
        left =
          (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
            ? { '<': a < b, '>': a > b, '<=': a <= b, '>=': a >= b }[op]!
            : new Unknown([op]);
      } else if (typeof left === 'string' && typeof right === 'string')
        left = new RegExp(op === '==~' ? `^(?:${right})$` : right).test(left);
      else left = new Unknown([op]);
    }
  }

  private additive(): Result {
    let left = this.unary();
    while (this.peek('+')) {
      this.i++;
      const right = this.unary();
      if (left instanceof Unknown || right instanceof Unknown) left = unknown(left, right);
      else if (typeof left === 'string' || typeof right === 'string') left = show(left) + show(right);
      else if (typeof left === 'number' && typeof right === 'number') left = left + right;
      else if (Array.isArray(left)) left = [...left, ...(Array.isArray(right) ? right : [right])];
      else left = new Unknown(['+']);
    }
    return left;
  }

  private unary(): Result {
    if (this.take('!')) {
      const v = this.unary();
      return v instanceof Unknown ? v : !truthy(v);
    }
    return this.postfix();
  }

  private postfix(): Result {
    let { value, name } = this.primary();
    for (;;) {
      if (this.peek('.') || this.peek('?.')) {
        const safe = this.t[this.i]!.value === '?.';
        const member = this.t[this.i + 1];
        if (member?.type !== 'ident') return new Unknown(['a member access']);
        this.i += 2;
        if (this.peek('(')) {
          const args = this.args();
          if (value instanceof Unknown) continue;
          if (args instanceof Unknown) value = args;
          else value = safe && value === null ? null : call(value, member.value, args);
          name = undefined;
        } else {
          name = name !== undefined ? `${name}.${member.value}` : undefined;
          value =
            name !== undefined
              ? this.variable(name)
              : value instanceof Unknown
                ? value
                : safe && value === null
                  ? null
                  : new Unknown([`.${member.value}`]);
        }
      } else if (this.peek('[') && name !== undefined) {
        const key = this.t[this.i + 1];
        if (key?.type !== 'string' || key.interpolated || this.t[this.i + 2]?.value !== ']')
          return new Unknown([`${name}[…]`]);
        this.i += 3;
        name = `${name}.${key.value}`;
        value = this.variable(name);
      } else return value;
    }
  }

  /** A dotted name as far as it is read: `workflow.profile`, `params.x`, `task.ext.y`; undefined-ish prefixes stay Unknown until complete. */
  private variable(name: string): Result {
    const parts = name.split('.');
    if (name === 'workflow.containerEngine') return this.facts.engine;
    if (name === 'workflow.profile') return this.facts.profile;
    if (parts[0] === 'params' && parts.length === 2) return this.facts.param(parts[1]!);
    if (parts[0] === 'task' && parts[1] === 'ext' && parts.length === 3 && this.facts.ext)
      return this.facts.ext(parts[2]!);
    return new Unknown([name]);
  }

  private args(): Value[] | Unknown {
    this.i++; // (
    const values: Result[] = [];
    while (!this.take(')')) {
      if (this.i >= this.t.length) return new Unknown(['a call']);
      values.push(this.ternary());
      this.take(',');
    }
    const bad = values.filter((v) => v instanceof Unknown);
    return bad.length ? unknown(...bad) : (values as Value[]);
  }

  private primary(): { value: Result; name?: string } {
    const t = this.t[this.i++];
    if (!t) return { value: new Unknown(['an empty expression']) };
    if (t.type === 'string') return { value: t.interpolated ? interpolate(t.value, this.facts) : t.value };
    if (t.type === 'number') return { value: Number(t.value) };
    if (t.type === 'ident') {
      if (t.value === 'true' || t.value === 'false') return { value: t.value === 'true' };
      if (t.value === 'null') return { value: null };
      if (this.peek('(')) {
        this.args();
        return { value: new Unknown([`${t.value}()`]) }; // a function of the script or of Nextflow
      }
      return { value: this.variable(t.value), name: t.value };
    }
    if (t.value === '(') {
      const v = this.ternary();
      return { value: this.take(')') ? v : new Unknown(['a parenthesis']) };
    }
    if (t.value === '[') {
      const items: Result[] = [];
      while (!this.take(']')) {
        if (this.i >= this.t.length) return { value: new Unknown(['a list']) };
        items.push(this.ternary());
        this.take(',');
      }
      const bad = items.filter((v) => v instanceof Unknown);
      return { value: bad.length ? unknown(...bad) : (items as Value[]) };
    }
    if (t.value === '{') {
      const close = matching(this.t, this.i - 1);
      const body = this.t.slice(this.i, close);
      this.i = close + 1;
      return { value: closureValue(body, this.facts) };
    }
    return { value: new Unknown([t.raw]) };
  }
}

/** A closure's value when it is one expression (`{ cond ? 'a' : 'b' }`, `{ -> x }`, `{ return x }`); more is Unknown. */
function closureValue(body: Token[], facts: Facts): Result {
  const arrow = body.findIndex((x) => x.value === '->');
  const inner =
    arrow >= 0 && body.slice(0, arrow).every((x) => x.type === 'ident' || x.value === ',')
      ? body.slice(arrow + 1)
      : body;
  return new Parser(inner[0]?.value === 'return' ? inner.slice(1) : inner, facts).run();
}

/** A double-quoted string's `${expr}` and `$name.path` parts, evaluated. */
function interpolate(text: string, facts: Facts): Result {
  let out = '';
  const missing: Result[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      out += text[i + 1];
      i += 2;
    } else if (c === '$' && text[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}') depth--;
        else if (text[j] === "'" || text[j] === '"') j = text.indexOf(text[j]!, j + 1);
        if (j < 0) return new Unknown(['an unterminated interpolation']);
      }
      const v = evaluate(text.slice(i + 2, j - 1), facts);
      if (v instanceof Unknown) missing.push(v);
      else out += show(v);
      i = j;
    } else if (c === '$' && /[A-Za-z_]/.test(text[i + 1] ?? '')) {
      const m = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*/.exec(text.slice(i + 1))![0];
      const v = evaluate(m, facts);
      if (v instanceof Unknown) missing.push(v);
      else out += show(v);
      i += 1 + m.length;
    } else {
      out += c;
      i++;
    }
  }
  return missing.length ? unknown(...missing) : out;
}

/** Evaluates an expression's source text. */
export function evaluate(text: string, facts: Facts): Result {
  const tokens = tokenize(text).filter((t) => t.type !== 'newline');
  return new Parser(tokens, facts).run();
}
