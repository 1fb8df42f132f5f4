// What one line of a chart holds, and how a server series becomes one.
import type { Series } from '../api';
import { appendPoints, type Points } from '../lib/align';

export interface LineData {
  /** Every point drawn as the faint raw line. */
  raw: Points;
  /**
   * The points the smoothed line is computed over. For a downsampled series
   * that is the last point of each bucket: smoothing min, max and last
   * together would drag the average toward the extremes.
   */
  sample: Points;
  /** An optional band around the line (rewards: mean ± std within min..max). */
  lo?: Points;
  hi?: Points;
  /** The server returned buckets, not every point: zooming in can show more. */
  downsampled: boolean;
  /** Points the server has in the requested range. */
  total: number;
  /** Steps per server bucket when downsampled, so live points can join the same grid. */
  bucket?: number;
  /** When each sampled step was logged (client seconds), for a time x axis. */
  ts?: Map<number, number>;
}

/**
 * A server series as a line. Downsampled buckets are drawn through their
 * min, max and last points in step order (the M4 idea: with about one bucket
 * per pixel column the polyline covers the same pixels as every point would),
 * so a spike never disappears into an average.
 */
export function lineFromSeries(s: Series): LineData {
  if (!s.downsampled) {
    // One object for both, so a live append lands once (see sameSample).
    const pts = { step: s.step, value: s.value };
    return { raw: pts, sample: pts, downsampled: false, total: s.total, ts: timesOf(s) };
  }
  const step: number[] = [];
  const value: number[] = [];
  const put = (st: number, v: number) => {
    const n = step.length;
    if (n > 0 && step[n - 1] === st) return; // the same point named twice in one bucket
    step.push(st);
    value.push(v);
  };
  for (let i = 0; i < s.step.length; i++) {
    const pts: [number, number][] = [
      [s.minStep[i], s.min[i]],
      [s.maxStep[i], s.max[i]],
      [s.step[i], s.value[i]],
    ];
    pts.sort((a, b) => a[0] - b[0]);
    for (const [st, v] of pts) put(st, v);
  }
  const n = s.step.length;
  return {
    raw: { step, value },
    sample: { step: s.step.slice(), value: s.value.slice() },
    // Buckets of one or two points still name every point: then nothing is hidden.
    downsampled: step.length < s.total,
    total: s.total,
    bucket: n > 1 ? (s.step[n - 1] - s.step[0]) / (n - 1) : undefined,
    ts: timesOf(s),
  };
}

/** Each returned step's time: the point's, or a bucket's last point's. */
function timesOf(s: Series): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < s.step.length; i++) if (s.ts[i] > 0) m.set(s.step[i], s.ts[i]);
  return m;
}

/**
 * Add live points to a line. Every point is drawn raw; for a downsampled
 * line the smoothing sample keeps one point per bucket-width of steps (the
 * latest), as the server's buckets do, so the smoothed line does not change
 * character where the fetched history ends and the live tail begins.
 */
export function appendLive(d: LineData, steps: number[], values: number[], ts?: number[]): boolean {
  const changed = appendPoints(d.raw, steps, values);
  if (ts) {
    d.ts ??= new Map();
    steps.forEach((s, i) => ts[i] > 0 && d.ts!.set(s, ts[i]));
  }
  if (d.sample !== d.raw) {
    const w = d.bucket;
    for (let i = 0; i < steps.length; i++) {
      const st = d.sample.step;
      const n = st.length;
      if (w && n > 0 && steps[i] > st[n - 1] && Math.floor(steps[i] / w) === Math.floor(st[n - 1] / w)) {
        st[n - 1] = steps[i];
        d.sample.value[n - 1] = values[i];
      } else appendPoints(d.sample, [steps[i]], [values[i]]);
    }
  }
  d.total = Math.max(d.total, d.raw.step.length);
  return changed;
}
