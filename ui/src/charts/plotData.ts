// Turn a chart's lines into the column arrays uPlot draws.
import type uPlot from 'uplot';
import { align, type Points } from '../lib/align';
import { smooth } from '../lib/smooth';
import type { LineData } from './lineData';

export interface PlotData {
  data: uPlot.AlignedData;
  /** Column index (in data) of each line's band edges, raw line and smoothed line. */
  band: ([number, number] | null)[];
  raw: number[];
  smooth: number[];
  /** Steps where some raw value was NaN or ±Infinity: drawn as gaps with a marker. */
  nonFinite: number[];
  /** Whether any drawn value is > 0; a log axis needs one. */
  positive: boolean;
}

/**
 * Columns are ordered bands, then raw lines, then smoothed lines, because
 * uPlot paints in column order and the bold smoothed lines belong on top.
 * Missing points are undefined (bridged), NaN/Infinity become null (a gap),
 * and with a log axis so do values <= 0, which have no logarithm.
 */
export function plotData(lines: LineData[], smoothing: number, log: boolean): PlotData {
  const inputs: Points[] = [];
  const band: ([number, number] | null)[] = [];
  for (const l of lines) {
    if (l.lo && l.hi) {
      band.push([inputs.length + 1, inputs.length + 2]);
      inputs.push(l.lo, l.hi);
    } else band.push(null);
  }
  const raw = lines.map((l) => (inputs.push(l.raw), inputs.length));
  const sm = lines.map((l) => (inputs.push({ step: l.sample.step, value: smooth(l.sample.value, smoothing) }), inputs.length));
  const aligned = align(inputs, true);
  const xs = aligned[0];
  const rawSet = new Set(raw);
  const nonFinite = new Set<number>();
  let positive = false;
  const cols: (number | null | undefined)[][] = [];
  for (let c = 1; c < aligned.length; c++) {
    const src = aligned[c];
    const out = new Array<number | null | undefined>(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (v === undefined || v === null) out[i] = v;
      else if (!Number.isFinite(v)) {
        out[i] = null;
        if (rawSet.has(c)) nonFinite.add(xs[i]);
      } else if (log && v <= 0) out[i] = null;
      else {
        out[i] = v;
        if (v > 0) positive = true;
      }
    }
    cols.push(out);
  }
  return {
    data: [xs, ...cols] as uPlot.AlignedData,
    band,
    raw,
    smooth: sm,
    nonFinite: [...nonFinite].sort((a, b) => a - b),
    positive,
  };
}
