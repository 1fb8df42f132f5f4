// Debiased exponential moving average, the smoothing TensorBoard's scalar
// dashboard draws (tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts),
// so a curve here reads the same as it does there at the same weight.

/**
 * Smooth values with weight w in [0, 1): last = last*w + (1-w)*v, divided by
 * 1 - w^n where n counts the finite values seen so far. Without that debias
 * the curve would start at (1-w)*v, near zero, instead of at v.
 *
 * Non-finite values (NaN, ±Infinity) and nulls pass through unchanged and do
 * not move the average: a diverged step shows as a gap, it does not poison
 * every later point. A constant series comes back exactly (no float drift).
 */
export function smooth(values: ArrayLike<number | null | undefined>, w: number): (number | null | undefined)[] {
  const n = values.length;
  const out: (number | null | undefined)[] = new Array(n);
  if (!(w > 0) || w >= 1 || isConstant(values)) {
    for (let i = 0; i < n; i++) out[i] = values[i];
    return out;
  }
  let last = 0;
  let seen = 0;
  let wn = 1; // w^seen, kept as a running product instead of Math.pow per point
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    seen++;
    wn *= w;
    out[i] = last / (1 - wn);
  }
  return out;
}

function isConstant(values: ArrayLike<number | null | undefined>): boolean {
  let first: number | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (first === undefined) first = v;
    else if (v !== first) return false;
  }
  return true;
}
