import { describe, expect, it } from 'vitest';
import { matches, parseFilter } from './filter';

function params(s: string): string[] {
  const r = parseFilter(s);
  if (!r.ok) throw new Error(`unexpected error at ${r.pos}: ${r.error}`);
  return r.params;
}

function error(s: string): { error: string; pos: number } {
  const r = parseFilter(s);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(s)}, got ${JSON.stringify(r.params)}`);
  return { error: r.error, pos: r.pos };
}

describe('parseFilter: valid input', () => {
  it('is empty for empty or blank input', () => {
    expect(params('')).toEqual([]);
    expect(params('   \t ')).toEqual([]);
  });

  it('parses every operator, mapping == to =', () => {
    expect(params('a<1')).toEqual(['a<1']);
    expect(params('a<=1')).toEqual(['a<=1']);
    expect(params('a>1')).toEqual(['a>1']);
    expect(params('a>=1')).toEqual(['a>=1']);
    expect(params('a=1')).toEqual(['a=1']);
    expect(params('a==1')).toEqual(['a=1']);
    expect(params('a!=1')).toEqual(['a!=1']);
  });

  it('joins clauses with and (any case) or commas', () => {
    expect(params('correctness < 0.5 and format >= 1')).toEqual(['correctness<0.5', 'format>=1']);
    expect(params('a<1,b>2 AND c=3')).toEqual(['a<1', 'b>2', 'c=3']);
  });

  it('ignores whitespace around every token', () => {
    expect(params('  a   <=   0.25 ,  b>1  ')).toEqual(['a<=0.25', 'b>1']);
    expect(params('a\t<\n1')).toEqual(['a<1']);
  });

  it('reads quoted names with spaces, commas and escapes', () => {
    expect(params('"length penalty" < -0.1')).toEqual(['length penalty<-0.1']);
    expect(params('"a, b" = 1 and "say \\"hi\\"" > 0')).toEqual(['a, b=1', 'say "hi">0']);
  });

  it('keeps punctuation in bare names', () => {
    expect(params('format/strict>0.5 and reward.v2<1')).toEqual(['format/strict>0.5', 'reward.v2<1']);
  });

  it('reads negative, signed, fractional and exponent numbers', () => {
    const r = parseFilter('a > -1.5 and b < +2 and c <= .5 and d >= 1e-3 and e = -2.5E+2 and f > 3.');
    expect(r.ok && r.clauses.map((c) => c.value)).toEqual([-1.5, 2, 0.5, 0.001, -250, 3]);
  });

  it('reads infinities and sends them the way the server reads them', () => {
    expect(params('a < inf and b > -Infinity')).toEqual(['a<Infinity', 'b>-Infinity']);
  });
});

describe('parseFilter: invalid input', () => {
  it('rejects a missing operator with its position', () => {
    expect(error('correctness 0.5')).toEqual({ error: 'expected an operator: < <= > >= = !=', pos: 12 });
  });

  it('rejects a missing or malformed number', () => {
    expect(error('a <').pos).toBe(3);
    expect(error('a < x').pos).toBe(4);
    expect(error('a < 0.5x').pos).toBe(4);
    expect(error('a < 1e').pos).toBe(4);
    expect(error('a < 1e999').error).toBe('number out of range');
  });

  it('rejects NaN, which the server can never match', () => {
    const e = error('a = NaN');
    expect(e.pos).toBe(4);
    expect(e.error).toMatch(/NaN/);
  });

  it('rejects a missing name', () => {
    expect(error('< 1').pos).toBe(0);
    expect(error('""<1').error).toBe('empty reward name');
  });

  it('rejects a missing separator and a dangling one', () => {
    expect(error('a<1 b<2')).toEqual({ error: 'expected "and" or "," between conditions', pos: 4 });
    expect(error('a<1 and ').pos).toBe(8);
    expect(error('a<1,').pos).toBe(4);
    expect(error('a<1 andy<2').pos).toBe(4);
  });

  it('rejects an unclosed quote and operators inside quoted names', () => {
    expect(error('"len penalty < 1')).toEqual({ error: 'unclosed quote in reward name', pos: 0 });
    expect(error('x<1 and "a<b" < 1')).toEqual({ error: 'a reward name cannot contain "<"', pos: 8 });
  });

  it('rejects an operator the grammar does not know', () => {
    expect(error('a <> 1').pos).toBe(3);
    expect(error('a => 1').pos).toBe(3);
  });
});

describe('matches', () => {
  const rw = [
    { name: 'c', value: 0.25 },
    { name: 'n', value: NaN },
  ];
  const parse = (s: string) => {
    const r = parseFilter(s);
    if (!r.ok) throw new Error(r.error);
    return r.clauses;
  };
  it('compares like the server', () => {
    expect(matches(parse('c < 0.5'), rw)).toBe(true);
    expect(matches(parse('c < 0.5 and c > 0.3'), rw)).toBe(false);
    expect(matches(parse('c != 0.25'), rw)).toBe(false);
  });
  it('never matches NaN or missing rewards', () => {
    expect(matches(parse('n != 1'), rw)).toBe(false);
    expect(matches(parse('missing >= -inf'), rw)).toBe(false);
  });
});
