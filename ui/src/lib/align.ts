// Aligning series onto one x axis for uPlot, and keeping a series sorted as
// live points arrive. uPlot wants [xs, ys1, ys2, ...] with one shared xs.

/** A series as parallel columns, sorted by step. */
export interface Points {
  step: number[];
  value: (number | null | undefined)[];
}

export type Aligned = [number[], ...(number | null | undefined)[][]];

/**
 * Merge several series onto the sorted union of their steps.
 *
 * Where a series has no point at a step the slot holds null, or undefined
 * with bridge = true: uPlot draws across undefined, so that two
 * runs logged at different steps still draw as lines while a real null (a
 * NaN point) stays a visible gap. A step repeated inside one series keeps its
 * last value, as the server does for a re-logged step.
 *
 * Each input must be sorted by step (the server and appendPoints keep them
 * so). The merge walks the k inputs' heads once: O(total * k), and k is the
 * handful of lines on one chart.
 */
export function align(series: Points[], bridge = false): Aligned {
  const fill = bridge ? undefined : null;
  const k = series.length;
  if (k === 1 && strictlyIncreasing(series[0].step)) return [series[0].step, series[0].value];
  let total = 0;
  for (const s of series) total += s.step.length;
  const xs: number[] = [];
  const ys: (number | null | undefined)[][] = series.map(() => []);
  const heads = new Array<number>(k).fill(0);
  // Filling ahead of time would cost a second pass; slots are written per step.
  for (;;) {
    let x = Infinity;
    for (let j = 0; j < k; j++) {
      const h = heads[j];
      if (h < series[j].step.length && series[j].step[h] < x) x = series[j].step[h];
    }
    if (x === Infinity) break;
    xs.push(x);
    for (let j = 0; j < k; j++) {
      const st = series[j].step;
      let h = heads[j];
      if (h < st.length && st[h] === x) {
        while (h + 1 < st.length && st[h + 1] === x) h++;
        ys[j].push(series[j].value[h]);
        heads[j] = h + 1;
      } else {
        ys[j].push(fill);
      }
    }
    if (xs.length > total) throw new Error('align: input not sorted by step');
  }
  return [xs, ...ys];
}

function strictlyIncreasing(a: number[]): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) return false;
  return true;
}

/**
 * Add points to a sorted series in place. In-order points (the live case)
 * are pushes; a step already present is replaced (last write wins, as on the
 * server); an earlier step is inserted where it belongs.
 * Returns true when anything changed.
 */
export function appendPoints(p: Points, steps: ArrayLike<number>, values: ArrayLike<number | null | undefined>): boolean {
  let changed = false;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const v = values[i];
    const n = p.step.length;
    if (n === 0 || s > p.step[n - 1]) {
      p.step.push(s);
      p.value.push(v);
      changed = true;
      continue;
    }
    const at = lowerBound(p.step, s);
    if (p.step[at] === s) {
      if (!Object.is(p.value[at], v)) {
        p.value[at] = v;
        changed = true;
      }
    } else {
      p.step.splice(at, 0, s);
      p.value.splice(at, 0, v);
      changed = true;
    }
  }
  return changed;
}

/** First index whose step is >= s (binary search). */
export function lowerBound(a: ArrayLike<number>, s: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
