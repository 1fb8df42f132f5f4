import { describe, expect, it } from 'vitest';
import { diffLines, diffStats } from './diff';

describe('diffLines', () => {
  it('keeps common lines and marks the rest', () => {
    const d = diffLines('a\nb\nc\nd', 'a\nx\nc\nd\ne')!;
    expect(d).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'del', text: 'b' },
      { kind: 'add', text: 'x' },
      { kind: 'same', text: 'c' },
      { kind: 'same', text: 'd' },
      { kind: 'add', text: 'e' },
    ]);
    expect(diffStats(d)).toEqual({ add: 2, del: 1 });
  });
  it('equal texts are all the same; one empty side is all added', () => {
    expect(diffStats(diffLines('p\nq', 'p\nq')!)).toEqual({ add: 0, del: 0 });
    expect(diffLines('', 'a')).toEqual([{ kind: 'del', text: '' }, { kind: 'add', text: 'a' }]);
  });
  it('rebuilds both sides', () => {
    const a = Array.from({ length: 300 }, (_, i) => `line ${i % 17}`).join('\n');
    const b = Array.from({ length: 280 }, (_, i) => `line ${(i * 3) % 19}`).join('\n');
    const d = diffLines(a, b)!;
    expect(d.filter((l) => l.kind !== 'add').map((l) => l.text).join('\n')).toBe(a);
    expect(d.filter((l) => l.kind !== 'del').map((l) => l.text).join('\n')).toBe(b);
  });
  it('gives up on texts too large to diff', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    expect(diffLines(a, b)).toBe(null);
  });
});
