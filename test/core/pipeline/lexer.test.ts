import { describe, expect, it } from 'vitest';
import { matching, statements, tokenize } from '../../../src/core/pipeline/lexer.js';

describe('tokenize', () => {
  it('keeps strings whole, braces and comment markers inside them included', () => {
    const tokens = tokenize(`a = "x { \${ b ? 'c}' : "d{" } y" // not { a block\nb = 'it''s' /* { */`);
    expect(tokens.filter((t) => t.type === 'string').map((t) => t.value)).toEqual([
      `x { \${ b ? 'c}' : "d{" } y`,
      'it',
      's',
    ]);
    expect(tokens.filter((t) => t.value === '{' || t.value === '}')).toEqual([]);
    expect(tokens.find((t) => t.type === 'string')?.interpolated).toBe(true);
  });

  it('reads triple-quoted and slashy strings, and tells a slashy regex from a division', () => {
    const tokens = tokenize(`x = """\nmulti { line\n"""\ny = a / 2\nz = ~/ab{2}c/\n`);
    expect(tokens.filter((t) => t.type === 'string').map((t) => t.value)).toEqual(['\nmulti { line\n', 'ab{2}c']);
    expect(tokens.some((t) => t.type === 'punct' && t.value === '/')).toBe(true);
    expect(tokens.find((t) => t.value === 'z')?.line).toBe(5);
  });

  it('matches brackets across nesting', () => {
    const tokens = tokenize('f { a [ b ( c ) ] { d } } e');
    const open = tokens.findIndex((t) => t.value === '{');
    expect(tokens[matching(tokens, open) + 1]?.value).toBe('e');
  });
});

describe('statements', () => {
  it('end at newlines outside brackets, but not where an operator carries the expression on', () => {
    const text = `container workflow.x == 'a' ?\n    'b' :\n    'c'\nlabel 'l'\nx = [\n 1,\n 2 ]\ny = a\n    .b()\n`;
    const stmts = statements(tokenize(text)).map((s) => s.map((t) => t.value).join(' '));
    expect(stmts).toEqual(['container workflow . x == a ? b : c', 'label l', 'x = [ 1 , 2 ]', 'y = a . b ( )']);
  });
});
