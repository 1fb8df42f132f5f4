// When a chart is too sparse to smooth, and how sparse it is.
/** Below this many points a chart is drawn raw: smoothing 10 eval points moves them visibly off what was logged. */
export const SPARSE_POINTS = 50;

/** The fewest points any line of the chart has (lines without points aside). */
export function sparsest(ds: { raw: { step: number[] } }[]): number {
  let n = Infinity;
  for (const d of ds) if (d.raw.step.length > 0) n = Math.min(n, d.raw.step.length);
  return n;
}

/** The page's smoothing, or none when every line is sparse. */
export function effectiveSmoothing(w: number, ds: { raw: { step: number[] }; total?: number }[]): number {
  const most = Math.max(0, ...ds.map((d) => Math.max(d.total ?? 0, d.raw.step.length)));
  return most < SPARSE_POINTS ? 0 : w;
}
