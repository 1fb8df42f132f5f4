// The reward filter box: `correctness < 0.5 and format >= 1`, parsed into
// the server's repeated `reward=<name><op><value>` query parameters.
//
// Grammar (whitespace is free between tokens):
//   filter  := clause ( ("and" | ",") clause )*     (empty input = no filter)
//   clause  := name op number
//   name    := bare | quoted
//   bare    := a run of characters other than whitespace, quotes, commas and < > = !
//   quoted  := "..." with \" and \\ escapes, for names with spaces or commas
//   op      := < | <= | > | >= | = | == | !=      (== is sent as =)
//   number  := decimal with optional sign, fraction and exponent (-1, .5, 2e-3),
//              or inf / Infinity / -Infinity (any case)
//
// NaN is rejected on purpose: the server stores a NaN reward as "no value", and
// comparisons with no value never match, so `x = NaN` or `x != NaN` would
// silently return nothing. Saying so up front is more honest.
// A name may not contain < > = ! even when quoted: the server splits
// `name<op>value` at the first operator character, so it could not be sent.

export type Op = '<' | '<=' | '>' | '>=' | '=' | '!=';

export interface Clause {
  name: string;
  op: Op;
  value: number;
}

export type ParseResult =
  | { ok: true; clauses: Clause[]; params: string[] }
  | { ok: false; error: string; pos: number };

const OPS = ['<=', '>=', '!=', '==', '<', '>', '='] as const;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const INFINITY = /^[+-]?(?:infinity|inf)(?![A-Za-z0-9_])/i;

class ParseError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

/** Parse a filter; on error, pos is the 0-based index in the input where it went wrong. */
export function parseFilter(input: string): ParseResult {
  try {
    const clauses = new Parser(input).parse();
    return { ok: true, clauses, params: clauses.map(toParam) };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message, pos: e.pos };
    throw e;
  }
}

/** The server's form of one clause, e.g. `correctness<0.5`. */
export function toParam(c: Clause): string {
  return `${c.name}${c.op}${formatValue(c.value)}`;
}

function formatValue(v: number): string {
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return String(v);
}

/** Whether a value passes a clause, with the server's rule that NaN or a missing reward never does. */
export function matches(clauses: Clause[], rewards: { name: string; value: number }[]): boolean {
  return clauses.every((c) => {
    const r = rewards.find((x) => x.name === c.name);
    if (!r || Number.isNaN(r.value)) return false;
    switch (c.op) {
      case '<':
        return r.value < c.value;
      case '<=':
        return r.value <= c.value;
      case '>':
        return r.value > c.value;
      case '>=':
        return r.value >= c.value;
      case '=':
        return r.value === c.value;
      case '!=':
        return r.value !== c.value;
    }
  });
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Clause[] {
    const out: Clause[] = [];
    this.space();
    if (this.i === this.s.length) return out;
    for (;;) {
      out.push(this.clause());
      this.space();
      if (this.i === this.s.length) return out;
      if (this.s[this.i] === ',') {
        this.i++;
      } else if (/^and(?![^\s"<>=!,])/i.test(this.s.slice(this.i))) {
        this.i += 3;
      } else {
        throw new ParseError('expected "and" or "," between conditions', this.i);
      }
      this.space();
      if (this.i === this.s.length) throw new ParseError('expected a condition after "and" or ","', this.i);
    }
  }

  private clause(): Clause {
    const name = this.name();
    this.space();
    const op = this.op();
    this.space();
    const value = this.number();
    return { name, op, value };
  }

  private name(): string {
    const start = this.i;
    if (this.s[this.i] === '"') {
      this.i++;
      let name = '';
      while (this.i < this.s.length && this.s[this.i] !== '"') {
        if (this.s[this.i] === '\\' && this.i + 1 < this.s.length) this.i++;
        name += this.s[this.i++];
      }
      if (this.i === this.s.length) throw new ParseError('unclosed quote in reward name', start);
      this.i++;
      const trimmed = name.trim();
      if (!trimmed) throw new ParseError('empty reward name', start);
      const bad = trimmed.search(/[<>=!]/);
      if (bad >= 0) throw new ParseError(`a reward name cannot contain "${trimmed[bad]}"`, start);
      return trimmed;
    }
    while (this.i < this.s.length && !/[\s"<>=!,]/.test(this.s[this.i])) this.i++;
    if (this.i === start) {
      throw new ParseError(this.i === this.s.length ? 'expected a reward name' : `expected a reward name, found "${this.s[this.i]}"`, start);
    }
    return this.s.slice(start, this.i);
  }

  private op(): Op {
    for (const op of OPS) {
      if (this.s.startsWith(op, this.i)) {
        this.i += op.length;
        return op === '==' ? '=' : op;
      }
    }
    throw new ParseError('expected an operator: < <= > >= = !=', this.i);
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    if (/^[+-]?nan(?![A-Za-z0-9_])/i.test(rest)) {
      throw new ParseError('NaN never compares equal or unequal; NaN rewards match no filter', this.i);
    }
    const inf = INFINITY.exec(rest);
    if (inf) {
      this.i += inf[0].length;
      return inf[0].startsWith('-') ? -Infinity : Infinity;
    }
    const m = NUMBER.exec(rest);
    // A number must end at a separator: "0.5x" is a typo, not 0.5 then "x".
    if (!m || (this.i + m[0].length < this.s.length && !/[\s,]/.test(this.s[this.i + m[0].length]))) {
      throw new ParseError('expected a number', this.i);
    }
    this.i += m[0].length;
    const v = Number(m[0]);
    if (!Number.isFinite(v)) throw new ParseError('number out of range', this.i - m[0].length);
    return v;
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }
}
