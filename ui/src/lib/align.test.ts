import { describe, expect, it } from 'vitest';
import { align, appendPoints, lowerBound, type Points } from './align';

describe('align', () => {
  it('merges onto the sorted union of steps with nulls for missing points', () => {
    const a = { step: [0, 2, 4], value: [1, 2, 3] };
    const b = { step: [1, 2, 5], value: [10, 20, 30] };
    expect(align([a, b])).toEqual([
      [0, 1, 2, 4, 5],
      [1, null, 2, 3, null],
      [null, 10, 20, null, 30],
    ]);
  });

  it('fills with undefined when bridging, keeping real nulls', () => {
    const a = { step: [0, 1], value: [null, 1] };
    const b = { step: [1], value: [5] };
    expect(align([a, b], true)).toEqual([
      [0, 1],
      [null, 1],
      [undefined, 5],
    ]);
  });

  it('keeps the last value of a step repeated in one series', () => {
    const a = { step: [0, 1, 1, 2], value: [1, 2, 3, 4] };
    const b = { step: [1], value: [9] };
    expect(align([a, b])).toEqual([
      [0, 1, 2],
      [1, 3, 4],
      [null, 9, null],
    ]);
    expect(align([a])).toEqual([
      [0, 1, 2],
      [1, 3, 4],
    ]);
  });

  it('returns a single sorted series without copying', () => {
    const a = { step: [1, 2, 3], value: [1, 2, 3] };
    const out = align([a]);
    expect(out[0]).toBe(a.step);
    expect(out[1]).toBe(a.value);
  });

  it('handles empty inputs', () => {
    expect(align([])).toEqual([[]]);
    expect(align([{ step: [], value: [] }, { step: [3], value: [1] }])).toEqual([[3], [null], [1]]);
  });

  it('is linear: 5 series of 100,000 points merge in seconds, not hours', () => {
    const series: Points[] = [];
    for (let j = 0; j < 5; j++) {
      const step: number[] = [];
      const value: number[] = [];
      for (let i = 0; i < 100_000; i++) {
        step.push(i * 5 + j);
        value.push(i);
      }
      series.push({ step, value });
    }
    const t0 = performance.now();
    const out = align(series);
    const ms = performance.now() - t0;
    expect(out[0]).toHaveLength(500_000);
    expect(out[0][499_999]).toBe(499_999);
    // A quadratic merge would do ~10^11 steps here; the bound is loose so a busy CI machine passes.
    expect(ms).toBeLessThan(5000);
  });
});

describe('appendPoints', () => {
  it('pushes in-order points', () => {
    const p: Points = { step: [0, 1], value: [1, 2] };
    expect(appendPoints(p, [2, 3], [3, 4])).toBe(true);
    expect(p).toEqual({ step: [0, 1, 2, 3], value: [1, 2, 3, 4] });
  });

  it('replaces a repeated step and reports no change for the same value', () => {
    const p: Points = { step: [0, 1, 2], value: [1, 2, 3] };
    expect(appendPoints(p, [1], [20])).toBe(true);
    expect(appendPoints(p, [2], [3])).toBe(false);
    expect(appendPoints(p, [2, 2], [7, 8])).toBe(true);
    expect(p).toEqual({ step: [0, 1, 2], value: [1, 20, 8] });
  });

  it('inserts out-of-order points where they belong', () => {
    const p: Points = { step: [0, 10], value: [0, 10] };
    appendPoints(p, [5, 3, 11, 7], [5, 3, 11, 7]);
    expect(p).toEqual({ step: [0, 3, 5, 7, 10, 11], value: [0, 3, 5, 7, 10, 11] });
  });

  it('treats NaN as a value that can replace and be replaced', () => {
    const p: Points = { step: [1], value: [NaN] };
    expect(appendPoints(p, [1], [NaN])).toBe(false);
    expect(appendPoints(p, [1], [2])).toBe(true);
    expect(p.value).toEqual([2]);
  });
});

describe('lowerBound', () => {
  it('finds the first index at or after a step', () => {
    expect(lowerBound([1, 3, 5], 0)).toBe(0);
    expect(lowerBound([1, 3, 5], 3)).toBe(1);
    expect(lowerBound([1, 3, 5], 4)).toBe(2);
    expect(lowerBound([1, 3, 5], 6)).toBe(3);
  });
});
