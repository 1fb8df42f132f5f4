// Colouring text by a per-token value (logprob, entropy, advantage…). A
// value range that crosses zero is diverging (red below, green above, by
// the magnitude); one that does not is sequential (deeper = further from
// the end nearest zero), so low logprobs (≤ 0) and high entropies (≥ 0)
// both stand out.

export interface TokenScale {
  lo: number;
  hi: number;
  diverging: boolean;
}

/** The scale of the finite values; null when there is none. */
export function tokenScale(values: Iterable<number>): TokenScale | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return null;
  return { lo, hi, diverging: lo < 0 && hi > 0 };
}

/** How strongly v stands out on the scale, 0 to 1, and on which side. */
export function tokenWeight(v: number, s: TokenScale): { w: number; negative: boolean } {
  if (!Number.isFinite(v)) return { w: 0, negative: false };
  if (s.diverging) {
    const m = Math.max(-s.lo, s.hi);
    return { w: Math.min(1, Math.abs(v) / m), negative: v < 0 };
  }
  const span = s.hi - s.lo;
  if (span === 0) return { w: 0, negative: s.hi <= 0 };
  // All ≤ 0 (logprobs): the most negative is deepest; else the largest is.
  if (s.hi <= 0) return { w: (s.hi - v) / span, negative: true };
  return { w: (v - s.lo) / span, negative: false };
}

/** A background colour for v. */
export function tokenColour(v: number, s: TokenScale): string {
  const { w, negative } = tokenWeight(v, s);
  if (w <= 0) return 'transparent';
  const a = (0.08 + 0.62 * w).toFixed(3);
  return negative ? `rgba(224, 49, 49, ${a})` : `rgba(47, 158, 68, ${a})`;
}
