// The imperative side of one chart: its uPlot instance, its data, fetching
// and live appends. Kept out of the Preact component so that a mouse move or a
// live point never re-renders anything; only state the buttons show goes back
// to the component.
import uPlot from 'uplot';
import { api, type ScalarEvent, type Series } from '../api';
import { lowerBound } from '../lib/align';
import { watch } from '../lib/live';
import { formatStep, formatValue, escapeHTML } from './format';
import { appendLive, lineFromSeries, type LineData } from './lineData';
import { fade } from './palette';
import { plotData, type PlotData } from './plotData';
import { seriesQueue } from './queue';

export interface ChartLine {
  key: string;
  label: string;
  color: string;
  /** The experiment a metric line is fetched from; absent for data the parent supplies. */
  expId?: string;
  /** Points the metric has (from the metrics list), to plan the first fetch. */
  count?: number;
}

/** Series longer than this get a quick overview before their detail. */
const OVERVIEW_ABOVE = 20_000;
const OVERVIEW_POINTS = 64;

export interface ChartState {
  loading: boolean;
  error: string | null;
  zoomed: boolean;
  /** The series came back downsampled; zooming in shows more detail. */
  downsampled: boolean;
  /** Log was asked for but nothing is positive, so the axis stayed linear. */
  logUnavailable: boolean;
}

export interface ChartOptions {
  mode: string;
  name: string;
  lines: ChartLine[];
  smoothing: number;
  height: number;
  /** true: the parent calls setData (rewards); false: fetch and watch the metric. */
  supplied: boolean;
  onState: (s: ChartState) => void;
  /** A click on the plot: the nearest step, and the line nearest the pointer. */
  onPick: (step: number, line: number) => void;
}

/** Every chart on the page shares a crosshair: hovering one shows the same step on all. */
const SYNC_KEY = 'expt-charts';

export class ChartController {
  private u: uPlot | null = null;
  private shape = '';
  private pd: PlotData | null = null;
  private datas: (LineData | null)[];
  private log = false;
  private zoom: [number, number] | null = null;
  private visible = false;
  private dirty = false;
  private loaded = false;
  private width = 0;
  private frame = 0;
  private fetch: AbortController | null = null;
  /** Live points that arrived while a fetch was in flight, applied after it. */
  private pending: [string, ScalarEvent[]][] | null = null;
  private fetchedMaxPoints = 0;
  private fetchedRange: [number, number] | null = null;
  private refetchTimer: ReturnType<typeof setTimeout> | undefined;
  private unwatch: (() => void)[] = [];
  private state: ChartState = { loading: false, error: null, zoomed: false, downsampled: false, logUnavailable: false };
  private down: { x: number; y: number } | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HTMLElement,
    private readonly readout: HTMLElement,
    private o: ChartOptions,
  ) {
    this.datas = o.lines.map(() => null);
    this.attrs(0, 0);
    if (!o.supplied) {
      for (const id of new Set(o.lines.map((l) => l.expId).filter((x): x is string => !!x))) {
        this.unwatch.push(
          watch(id, {
            scalars: (pts) => this.live(id, pts),
            // Events may have been missed while the stream was down.
            reconnected: () => this.loaded && this.load(),
          }),
        );
      }
    }
    this.readout.innerHTML = '';
  }

  destroy(): void {
    this.fetch?.abort();
    clearTimeout(this.refetchTimer);
    cancelAnimationFrame(this.frame);
    this.unwatch.forEach((f) => f());
    this.u?.destroy();
    this.u = null;
  }

  setVisible(v: boolean): void {
    this.visible = v;
    if (!v) return;
    if (!this.loaded && !this.fetch && !this.o.supplied) this.load();
    else if (this.dirty) this.schedule();
  }

  setSize(width: number): void {
    width = Math.floor(width);
    if (width <= 0 || width === this.width) return;
    this.width = width;
    if (this.u) this.u.setSize({ width, height: this.o.height });
    else if (this.loaded) this.schedule(); // data came before the box had a width
    // Wider than the detail we fetched: ask again for about a bucket per pixel.
    if (this.loaded && this.state.downsampled && width > this.fetchedMaxPoints * 1.3) this.refetchSoon();
  }

  setHeight(h: number): void {
    if (h === this.o.height) return;
    this.o.height = h;
    if (this.u) this.u.setSize({ width: this.width, height: h });
  }

  setSmoothing(w: number): void {
    if (w === this.o.smoothing) return;
    this.o.smoothing = w;
    this.schedule();
  }

  setLog(on: boolean): void {
    this.log = on;
    this.schedule();
  }

  setData(d: LineData[]): void {
    this.datas = d;
    this.loaded = true;
    this.schedule();
  }

  setCallbacks(onPick: (step: number, line: number) => void): void {
    this.o.onPick = onPick;
  }

  resetZoom(): void {
    if (!this.zoom) return;
    this.zoom = null;
    this.emit({ zoomed: false });
    // Detail fetched for a range is not the whole series: fetch it again.
    if (this.fetchedRange) this.load();
    else this.draw();
  }

  // ---- data ----

  /**
   * Fetch every line for the current view, about one bucket per pixel.
   *
   * A long series is fetched twice on first sight: a coarse overview first,
   * which the server answers from its rollups in a few milliseconds, then
   * the full-width detail behind every chart's overview. Detail for a
   * 100,000-step series costs the server a scan of every point, and a page
   * opens ten of them at once; the overview makes the page usable at once.
   */
  load(): void {
    if (this.o.supplied) return;
    this.fetch?.abort();
    const ac = new AbortController();
    this.fetch = ac;
    this.pending = [];
    const maxPoints = Math.max(100, Math.round(this.width || 600));
    const range = this.zoom ? ([Math.floor(this.zoom[0]), Math.ceil(this.zoom[1])] as [number, number]) : null;
    const overview = !this.loaded && !range && this.o.lines.some((l) => (l.count ?? 0) > OVERVIEW_ABOVE);
    this.emit({ loading: true, error: null });
    const phase = async () => {
      if (overview) {
        const coarse = await this.fetchLines(OVERVIEW_POINTS, null, 0, ac.signal);
        if (this.fetch !== ac) return;
        this.accept(coarse, OVERVIEW_POINTS, null, false);
      }
      const series = await this.fetchLines(maxPoints, range, overview ? 1 : 0, ac.signal);
      if (this.fetch !== ac) return;
      this.fetch = null;
      this.accept(series, maxPoints, range, true);
    };
    phase().catch((err: unknown) => {
      if (this.fetch !== ac) return;
      this.fetch = null;
      this.pending = null;
      if (ac.signal.aborted) return;
      this.emit({ loading: false, error: err instanceof Error ? err.message : String(err) });
    });
  }

  private fetchLines(maxPoints: number, range: [number, number] | null, priority: number, signal: AbortSignal): Promise<Series[]> {
    const { mode, name } = this.o;
    return Promise.all(
      this.o.lines.map((l) =>
        seriesQueue.run(() => api.series(l.expId!, { mode, name, maxPoints, from: range?.[0], to: range?.[1] }, signal), signal, priority),
      ),
    );
  }

  /** Take fetched series as the chart's data, with the live points that came meanwhile on top. */
  private accept(series: Series[], maxPoints: number, range: [number, number] | null, final: boolean): void {
    this.datas = series.map(lineFromSeries);
    this.fetchedMaxPoints = maxPoints;
    this.fetchedRange = range;
    this.loaded = true;
    // appendPoints replaces by step, so applying the same points again after the detail is harmless.
    for (const [id, pts] of this.pending ?? []) this.applyLive(id, pts);
    if (final) this.pending = null;
    this.emit({ loading: !final, downsampled: this.datas.some((d) => d?.downsampled) });
    this.schedule();
  }

  private refetchSoon(): void {
    clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => this.load(), 250);
  }

  private live(expId: string, pts: ScalarEvent[]): void {
    if (this.pending) {
      this.pending.push([expId, pts]);
      return;
    }
    // Not fetched yet: the fetch, when the chart scrolls into view, will include these.
    if (!this.loaded) return;
    if (this.applyLive(expId, pts)) this.schedule();
  }

  /** Append an experiment's points for this metric to its line. */
  private applyLive(expId: string, pts: ScalarEvent[]): boolean {
    const steps: number[] = [];
    const values: number[] = [];
    for (const p of pts) {
      if (p.mode !== this.o.mode || p.name !== this.o.name) continue;
      steps.push(p.step);
      values.push(p.value);
    }
    if (steps.length === 0) return false;
    let changed = false;
    this.o.lines.forEach((l, i) => {
      const d = this.datas[i];
      if (l.expId === expId && d) changed = appendLive(d, steps, values) || changed;
    });
    return changed;
  }

  // ---- drawing ----

  /** Coalesce redraws to one per frame; a chart out of view only marks itself dirty. */
  private schedule(): void {
    if (!this.visible) {
      this.dirty = true;
      return;
    }
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    if (!this.visible) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    const present = this.datas.map((d) => d ?? { raw: { step: [], value: [] }, sample: { step: [], value: [] }, downsampled: false, total: 0 });
    let pd = plotData(present, this.o.smoothing, this.log);
    let log = this.log;
    if (log && !pd.positive) {
      // Nothing has a logarithm: stay linear rather than draw an empty chart.
      pd = plotData(present, this.o.smoothing, false);
      log = false;
    }
    if (this.state.logUnavailable !== (this.log && !log)) this.emit({ logUnavailable: this.log && !log });
    this.pd = pd;
    const first = present.find((d) => d.raw.step.length > 0);
    this.attrs(present.filter((d) => d.raw.step.length > 0).length, first ? first.raw.step.length : 0);
    if (this.width <= 0) return;

    const shape = [log, this.o.smoothing > 0, pd.band.map((b) => !!b).join(), this.o.lines.map((l) => l.color).join()].join('|');
    if (this.u && shape === this.shape) {
      this.u.setData(pd.data, !this.zoom);
      if (this.zoom) this.u.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
      return;
    }
    this.u?.destroy();
    this.shape = shape;
    this.host.textContent = '';
    this.u = new uPlot(this.options(pd, log), pd.data, this.host);
    if (this.zoom) this.u.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    this.bindPointer(this.u);
  }

  private options(pd: PlotData, log: boolean): uPlot.Options {
    const smoothed = this.o.smoothing > 0;
    const series: uPlot.Series[] = [{ label: 'step' }];
    const bands: uPlot.Band[] = [];
    pd.band.forEach((b, i) => {
      if (!b) return;
      const c = this.o.lines[i].color;
      series.push({ label: 'lo', stroke: 'transparent', points: { show: false } }, { label: 'hi', stroke: 'transparent', points: { show: false } });
      bands.push({ series: [b[1], b[0]], fill: fade(c, 0.14) });
    });
    // Raw lines faint when a smoothed line is drawn over them, as in TensorBoard.
    for (const l of this.o.lines) series.push({ label: l.label, stroke: smoothed ? fade(l.color, 0.35) : l.color, width: smoothed ? 1 : 1.5 });
    for (const l of this.o.lines) series.push({ label: `${l.label} (smoothed)`, stroke: l.color, width: 2, show: smoothed, points: { show: false } });
    const axis = { stroke: '#6b7180', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e5ea', width: 1, size: 4 }, font: '11px system-ui, sans-serif' };
    return {
      width: this.width,
      height: this.o.height,
      legend: { show: false },
      padding: [8, 10, 0, 0],
      scales: { x: { time: false }, y: log ? { distr: 3, log: 10 } : { distr: 1 } },
      axes: [
        { ...axis, size: 30, values: (_u, vals) => vals.map((v) => (v == null ? '' : formatStep(v, true))) },
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
        // Double click resets through resetZoom, which also refetches.
        bind: { dblclick: () => null },
        sync: {
          key: SYNC_KEY,
          // Share the crosshair, not drags: zooming one chart leaves the rest alone.
          filters: { pub: (type) => type === 'mousemove' || type === 'mouseleave' || type === 'mouseenter' },
        },
        points: { size: 7 },
      },
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.showReadout(u)],
        draw: [(u) => this.drawNonFinite(u)],
      },
    };
  }

  /** A tick at the bottom of the plot for each NaN/Inf step: a gap alone could be mistaken for missing data. */
  private drawNonFinite(u: uPlot): void {
    const steps = this.pd?.nonFinite;
    if (!steps || steps.length === 0) return;
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

  private onSelect(u: uPlot): void {
    if (u.select.width < 3) return;
    const min = u.posToVal(u.select.left, 'x');
    const max = u.posToVal(u.select.left + u.select.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (!(max > min)) return;
    this.zoom = [min, max];
    u.setScale('x', { min, max });
    this.emit({ zoomed: true });
    // Buckets only hide detail when the server downsampled; then ask for the visible range.
    if (this.state.downsampled && !this.o.supplied) this.refetchSoon();
  }

  private bindPointer(u: uPlot): void {
    u.over.addEventListener('mousedown', (e) => (this.down = { x: e.clientX, y: e.clientY }));
    u.over.addEventListener('mouseup', (e) => {
      const d = this.down;
      this.down = null;
      // A click, not the end of a drag-to-zoom.
      if (!d || Math.abs(e.clientX - d.x) > 3 || Math.abs(e.clientY - d.y) > 3) return;
      const idx = u.cursor.idx;
      if (idx == null) return;
      const step = u.data[0][idx];
      if (step != null) this.o.onPick(step, this.nearestLine(u, idx));
    });
    u.over.addEventListener('dblclick', () => this.resetZoom());
  }

  /** Which line the pointer is closest to vertically at idx (for picking a run on a compare chart). */
  private nearestLine(u: uPlot, idx: number): number {
    const pd = this.pd;
    if (!pd || this.o.lines.length < 2) return 0;
    const y = u.posToVal(u.cursor.top ?? 0, 'y');
    let best = 0;
    let dist = Infinity;
    pd.raw.forEach((c, i) => {
      const col = this.o.smoothing > 0 ? u.data[pd.smooth[i]] : u.data[c];
      const v = nearest(col, idx);
      if (v == null) return;
      const d = Math.abs(v - y);
      if (d < dist) [best, dist] = [i, d];
    });
    return best;
  }

  private showReadout(u: uPlot): void {
    const pd = this.pd;
    const idx = u.cursor.idx;
    if (!pd || idx == null) {
      this.readout.innerHTML = '';
      return;
    }
    const x = u.data[0][idx];
    const parts: string[] = [`<span class="ro-step">step ${formatStep(x, false)}</span>`];
    const multi = this.o.lines.length > 1;
    this.o.lines.forEach((l, i) => {
      const raw = nearest(u.data[pd.raw[i]], idx);
      if (raw === undefined) return;
      const sm = nearest(u.data[pd.smooth[i]], idx);
      const b = pd.band[i];
      let s = '<span class="ro-line">';
      if (multi) s += `<i style="background:${l.color}"></i>${escapeHTML(l.label)} `;
      // A gap is NaN, ±Infinity or (on a log axis) a value <= 0: show what was logged.
      s += `<b>${formatValue(raw === null ? this.loggedAt(i, x) : raw, false)}</b>`;
      if (this.o.smoothing > 0 && sm != null) s += ` <span class="muted">smoothed</span> ${formatValue(sm, false)}`;
      if (b) {
        const lo = nearest(u.data[b[0]], idx);
        const hi = nearest(u.data[b[1]], idx);
        if (lo != null && hi != null) s += ` <span class="muted">band</span> ${formatValue(lo, false)}…${formatValue(hi, false)}`;
      }
      parts.push(s + '</span>');
    });
    this.readout.innerHTML = parts.join('');
  }

  private loggedAt(line: number, step: number): number | null {
    const raw = this.datas[line]?.raw;
    if (!raw) return null;
    const at = lowerBound(raw.step, step);
    return raw.step[at] === step ? (raw.value[at] ?? null) : null;
  }

  private attrs(series: number, points: number): void {
    this.root.setAttribute('data-series', String(series));
    this.root.setAttribute('data-points', String(points));
  }

  private emit(s: Partial<ChartState>): void {
    this.state = { ...this.state, ...s };
    this.o.onState(this.state);
  }
}

function pow10Only(_u: uPlot, splits: number[]): (number | null)[] {
  return splits.map((v) => (isPow10(v) ? v : null));
}

function isPow10(v: number): boolean {
  const e = Math.log10(Math.abs(v));
  return Math.abs(e - Math.round(e)) < 1e-9;
}

/**
 * The value of a column at idx, or at the closest index that has one: with
 * several runs on one chart, the hovered step often belongs to another run.
 * Returns undefined when the column has nothing nearby.
 */
function nearest(col: ArrayLike<number | null | undefined>, idx: number): number | null | undefined {
  if (col[idx] !== undefined) return col[idx];
  for (let d = 1; d < 64; d++) {
    if (idx - d >= 0 && col[idx - d] !== undefined) return col[idx - d];
    if (idx + d < col.length && col[idx + d] !== undefined) return col[idx + d];
  }
  return undefined;
}
