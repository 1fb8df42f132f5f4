// What a chart's x axis measures, for every chart of the page (?x=): the
// step, the wall clock (the SDK stamps every point with its time), or the
// time since the run's first point, which lines runs up that started at
// different times. Time axes place points by when they were logged, so a
// run that slowed down shows it; per-step reward charts stay on steps.
import type { Points } from '../lib/align';
import type { LineData } from './lineData';

export type XMode = 'step' | 'wall' | 'relative';

export function parseXMode(s: string | null): XMode {
  return s === 'wall' || s === 'relative' ? s : 'step';
}

export interface XListener {
  setXMode(m: XMode): void;
}

const members = new Set<XListener>();
let mode: XMode = 'step';

export function xMode(): XMode {
  return mode;
}

export function setXMode(m: XMode): void {
  if (m === mode) return;
  mode = m;
  for (const c of members) c.setXMode(m);
}

export function joinXAxis(c: XListener): () => void {
  members.add(c);
  return () => void members.delete(c);
}

/**
 * A line with time for x: each point whose time is known, at its time (or
 * its time since t0). steps gives each point's step back, for a click.
 * A downsampled line keeps the points the server timed (each bucket's last).
 */
export function lineInTime(d: LineData, m: Exclude<XMode, 'step'>): { line: LineData; steps: number[] } {
  const ts = d.ts;
  let t0 = 0;
  if (m === 'relative' && ts) {
    t0 = Infinity;
    for (const t of ts.values()) if (t > 0 && t < t0) t0 = t;
  }
  const steps: number[] = [];
  const sample: Points = { step: [], value: [] };
  const p = d.sample;
  for (let i = 0; i < p.step.length; i++) {
    const t = ts?.get(p.step[i]);
    if (t === undefined || !(t > 0)) continue; // 0: a point logged without a time
    const x = t - t0;
    const n = sample.step.length;
    if (n > 0 && x <= sample.step[n - 1]) continue; // out of time order (the clock stepped back): keep the first
    sample.step.push(x);
    sample.value.push(p.value[i]);
    steps.push(p.step[i]);
  }
  return { line: { ...d, raw: sample, sample, lo: undefined, hi: undefined }, steps };
}

/** A duration in seconds as the relative axis labels it: 45s, 12m, 3h 05m, 2d 4h. */
export function formatDuration(s: number): string {
  const neg = s < 0 ? '-' : '';
  s = Math.abs(s);
  if (s < 60) return `${neg}${Math.round(s)}s`;
  if (s < 3600) return `${neg}${Math.floor(s / 60)}m${s % 60 >= 1 && s < 600 ? ` ${String(Math.floor(s % 60)).padStart(2, '0')}s` : ''}`;
  if (s < 86400) return `${neg}${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${neg}${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
