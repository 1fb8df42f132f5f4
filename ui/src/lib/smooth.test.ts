import { describe, expect, it } from 'vitest';
import { smooth } from './smooth';

describe('smooth', () => {
  it('matches hand-computed debiased EMA values', () => {
    // w = 0.5: last1 = 0.5*1 = 0.5, /(1-0.5) = 1
    //          last2 = 0.25 + 0.5*3 = 1.75, /(1-0.25) = 2.3333…
    //          last3 = 0.875 + 0.5*2 = 1.875, /(1-0.125) = 2.142857…
    const s = smooth([1, 3, 2], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(7 / 3, 12);
    expect(s[2]).toBeCloseTo(15 / 7, 12);
  });

  it('passes NaN and Infinity through without advancing the average', () => {
    const s = smooth([1, NaN, 3, Infinity, -Infinity, 2], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeNaN();
    // Same as the second point of [1, 3, 2]: the NaN did not count as a step.
    expect(s[2]).toBeCloseTo(7 / 3, 12);
    expect(s[3]).toBe(Infinity);
    expect(s[4]).toBe(-Infinity);
    expect(s[5]).toBeCloseTo(15 / 7, 12);
  });

  it('passes nulls and undefined through', () => {
    const s = smooth([null, 4, undefined, 4, 8], 0.5);
    expect(s[0]).toBeNull();
    expect(s[1]).toBeCloseTo(4, 12);
    expect(s[2]).toBeUndefined();
    // last: 2, then 1+2 = 3 (/0.75 = 4), then 1.5+4 = 5.5 (/0.875)
    expect(s[4]).toBeCloseTo(5.5 / 0.875, 12);
  });

  it('returns a constant series exactly', () => {
    expect(smooth([0.1, 0.1, NaN, 0.1, 0.1], 0.9)).toEqual([0.1, 0.1, NaN, 0.1, 0.1]);
  });

  it('returns the input for w = 0', () => {
    expect(smooth([5, -1, 7, NaN], 0)).toEqual([5, -1, 7, NaN]);
  });

  it('starts at the raw value for a heavy weight, then lags behind it', () => {
    const s = smooth([10, 0, 0], 0.99);
    expect(s[0]).toBeCloseTo(10, 12);
    // last = 0.099 after two points (10*0.01*0.99), debias 1-0.99^2 = 0.0199
    expect(s[1]).toBeCloseTo(0.099 / 0.0199, 12);
    expect(s[1]).toBeGreaterThan(4);
  });

  it('does not mutate its input and keeps the length', () => {
    const v = [3, 1, 2];
    const s = smooth(v, 0.6);
    expect(v).toEqual([3, 1, 2]);
    expect(s).toHaveLength(3);
  });
});
