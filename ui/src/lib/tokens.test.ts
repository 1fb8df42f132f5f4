import { describe, expect, it } from 'vitest';
import { tokenColour, tokenScale, tokenWeight } from './tokens';

describe('token colours', () => {
  it('logprobs (all ≤ 0): the least likely token is deepest red, a certain one plain', () => {
    const s = tokenScale([-4, -1, 0, NaN])!;
    expect(s).toEqual({ lo: -4, hi: 0, diverging: false });
    expect(tokenWeight(-4, s)).toEqual({ w: 1, negative: true });
    expect(tokenWeight(0, s).w).toBe(0);
    expect(tokenColour(0, s)).toBe('transparent');
    expect(tokenColour(-4, s)).toBe('rgba(224, 49, 49, 0.700)');
    expect(tokenColour(NaN, s)).toBe('transparent');
  });
  it('entropies (≥ 0): the highest is deepest', () => {
    const s = tokenScale([0.5, 2.5])!;
    expect(tokenWeight(2.5, s)).toEqual({ w: 1, negative: false });
    expect(tokenWeight(0.5, s).w).toBe(0);
  });
  it('advantages across zero diverge by magnitude', () => {
    const s = tokenScale([-1, 0.5, 2])!;
    expect(s.diverging).toBe(true);
    expect(tokenWeight(-1, s)).toEqual({ w: 0.5, negative: true });
    expect(tokenWeight(2, s)).toEqual({ w: 1, negative: false });
    expect(tokenColour(2, s)).toMatch(/^rgba\(47, 158, 68/);
  });
  it('no finite value, no scale', () => {
    expect(tokenScale([NaN, Infinity])).toBe(null);
  });
});
