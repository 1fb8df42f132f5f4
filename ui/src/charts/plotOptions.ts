// uPlot options for a chart: series styles, axes, the cursor, and the
// marks for non-finite values. The controller supplies the behaviour hooks.
import type uPlot from 'uplot';
import type { ChartLine } from './line';
import { formatStep, formatValue } from './format';
import { fade } from './palette';
import type { PlotData } from './plotData';
import { formatDuration, type XMode } from './xAxis';

/** Every chart on the page shares a crosshair: hovering one shows the same step on all. */
const SYNC_KEY = 'expt-charts';

export interface PlotSetup {
  width: number;
  height: number;
  lines: ChartLine[];
  smoothing: number;
  log: boolean;
  hooks: uPlot.Hooks.Arrays;
  /** Lines with a single point: drawn as a filled dot, which a line cannot show. */
  single?: boolean[];
  /** What x is: steps, or seconds (wall clock, or since the run's first point). */
  x?: XMode;
}

export function plotOptions(pd: PlotData, p: PlotSetup): uPlot.Options {
  const smoothed = p.smoothing > 0;
  const log = p.log;
  const series: uPlot.Series[] = [{ label: 'step' }];
  const bands: uPlot.Band[] = [];
  pd.band.forEach((b, i) => {
    if (!b) return;
    const c = p.lines[i].color;
    series.push({ label: 'lo', stroke: 'transparent', points: { show: false } }, { label: 'hi', stroke: 'transparent', points: { show: false } });
    bands.push({ series: [b[1], b[0]], fill: fade(c, 0.14) });
  });
  // Raw lines faint when a smoothed line is drawn over them, as in TensorBoard.
  p.lines.forEach((l, i) =>
    series.push({
      label: l.label,
      stroke: smoothed ? fade(l.color, 0.35) : l.color,
      width: smoothed ? 1 : 1.5,
      ...(p.single?.[i] ? { points: { show: true, size: 8, fill: l.color, stroke: l.color } } : {}),
    }),
  );
  for (const l of p.lines) series.push({ label: `${l.label} (smoothed)`, stroke: l.color, width: 2, show: smoothed, points: { show: false } });
  const axis = { stroke: '#6b7180', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e5ea', width: 1, size: 4 }, font: '11px system-ui, sans-serif' };
  return {
    width: p.width,
    height: p.height,
    legend: { show: false },
    padding: [8, 10, 0, 0],
    scales: { x: { time: p.x === 'wall' }, y: log ? { distr: 3, log: 10 } : { distr: 1 } },
    axes: [
      p.x === 'wall'
        ? { ...axis, size: 42 } // uPlot's own date and time ticks, two lines of them
        : p.x === 'relative'
          ? { ...axis, size: 30, values: (_u, vals) => vals.map((v) => (v == null ? '' : formatDuration(v))) }
          : // Steps are whole: a tick between two (1.5 on a short run) would print as a repeated 2.
            { ...axis, size: 30, values: (_u, vals) => vals.map((v) => (v == null || !Number.isInteger(v) ? '' : formatStep(v, true))) },
      {
        ...axis,
        size: 58,
        values: (_u, vals) => vals.map((v) => (v == null ? '' : formatValue(v, true))),
        // A log axis splits at 1..9 × 10^n; labelling and gridding each one makes a comb.
        ...(log ? { filter: pow10Only, grid: { ...axis.grid, filter: pow10Only }, ticks: { ...axis.ticks, filter: pow10Only } } : {}),
      },
    ],
    series,
    bands,
    cursor: {
      drag: { x: true, y: false, setScale: false },
      // Only the vertical line: it is synced across charts, where a y position means nothing.
      y: false,
      // Double click resets through the controller, which also refetches.
      bind: { dblclick: () => null },
      sync: {
        key: SYNC_KEY,
        // Share the crosshair, not drags: zooming one chart leaves the rest alone.
        filters: { pub: (type) => type === 'mousemove' || type === 'mouseleave' || type === 'mouseenter' },
      },
      points: { size: 7 },
    },
    hooks: p.hooks,
  };
}

/** A mark at the bottom of the plot for each NaN/Inf step: a gap alone could be mistaken for missing data. */
export function drawNonFinite(u: uPlot, steps: number[]): void {
  if (steps.length === 0) return;
  const { ctx } = u;
  const pr = devicePixelRatio || 1;
  const bottom = u.bbox.top + u.bbox.height;
  const xmin = u.scales.x.min ?? -Infinity;
  const xmax = u.scales.x.max ?? Infinity;
  ctx.save();
  ctx.fillStyle = '#c92a2a';
  for (const s of steps) {
    if (s < xmin || s > xmax) continue;
    const x = u.valToPos(s, 'x', true);
    ctx.beginPath();
    ctx.moveTo(x, bottom - 7 * pr);
    ctx.lineTo(x - 4 * pr, bottom);
    ctx.lineTo(x + 4 * pr, bottom);
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}

function pow10Only(_u: uPlot, splits: number[]): (number | null)[] {
  return splits.map((v) => (isPow10(v) ? v : null));
}

function isPow10(v: number): boolean {
  const e = Math.log10(Math.abs(v));
  return Math.abs(e - Math.round(e)) < 1e-9;
}
