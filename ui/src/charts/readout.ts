// The line under a chart that reads out the hovered step's values.
import type uPlot from 'uplot';
import type { ChartLine } from './line';
import { escapeHTML, formatStep, formatValue } from './format';
import type { PlotData } from './plotData';
import { formatDuration, type XMode } from './xAxis';

/**
 * HTML for the read-out at data index idx: the step, then per line the raw
 * value (bold), the smoothed value and the band. loggedAt gives the logged
 * value behind a gap (NaN, ±Infinity, or <= 0 on a log axis).
 */
export function readoutHTML(
  u: uPlot,
  pd: PlotData,
  idx: number,
  lines: ChartLine[],
  smoothing: number,
  loggedAt: (line: number, step: number) => number | null,
  axis: XMode = 'step',
  stepAt: (x: number) => number | undefined = (x) => x,
): string {
  const x = u.data[0][idx];
  const st = stepAt(x);
  const when = axis === 'wall' ? new Date(x * 1000).toLocaleString() : axis === 'relative' ? `+${formatDuration(x)}` : '';
  const parts: string[] = [`<span class="ro-step">${when ? escapeHTML(when) + ' · ' : ''}step ${st === undefined ? '?' : formatStep(st, false)}</span>`];
  const multi = lines.length > 1;
  lines.forEach((l, i) => {
    const raw = nearest(u.data[pd.raw[i]], idx);
    if (raw === undefined) return;
    const sm = nearest(u.data[pd.smooth[i]], idx);
    const b = pd.band[i];
    let s = '<span class="ro-line">';
    if (multi) s += `<i style="background:${l.color}"></i>${escapeHTML(l.label)} `;
    s += `<b>${formatValue(raw === null && st !== undefined ? loggedAt(i, st) : raw, false)}</b>`;
    if (smoothing > 0 && sm != null) s += ` <span class="muted">smoothed</span> ${formatValue(sm, false)}`;
    if (b) {
      const lo = nearest(u.data[b[0]], idx);
      const hi = nearest(u.data[b[1]], idx);
      if (lo != null && hi != null) s += ` <span class="muted">band</span> ${formatValue(lo, false)}…${formatValue(hi, false)}`;
    }
    parts.push(s + '</span>');
  });
  return parts.join('');
}

/** Which line the pointer is closest to vertically at idx (to pick a run on a compare chart). */
export function nearestLine(u: uPlot, pd: PlotData, idx: number, smoothing: number): number {
  if (pd.raw.length < 2) return 0;
  const y = u.posToVal(u.cursor.top ?? 0, 'y');
  let best = 0;
  let dist = Infinity;
  pd.raw.forEach((c, i) => {
    const v = nearest(smoothing > 0 ? u.data[pd.smooth[i]] : u.data[c], idx);
    if (v == null) return;
    const d = Math.abs(v - y);
    if (d < dist) [best, dist] = [i, d];
  });
  return best;
}

/**
 * The value of a column at idx, or at the closest index that has one: with
 * several runs on one chart, the hovered step often belongs to another run.
 * Returns undefined when the column has nothing nearby.
 */
export function nearest(col: ArrayLike<number | null | undefined>, idx: number): number | null | undefined {
  if (col[idx] !== undefined) return col[idx];
  for (let d = 1; d < 64; d++) {
    if (idx - d >= 0 && col[idx - d] !== undefined) return col[idx - d];
    if (idx + d < col.length && col[idx + d] !== undefined) return col[idx + d];
  }
  return undefined;
}
