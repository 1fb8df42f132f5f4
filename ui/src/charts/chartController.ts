// The imperative side of one chart: its uPlot instance, its data, fetching
// and live appends. Kept out of the Preact component so that a mouse move or a
// live point never re-renders anything; only state the buttons show goes back
// to the component.
import uPlot from 'uplot';
import { api, type ScalarEvent, type Series } from '../api';
import { lowerBound } from '../lib/align';
import { watch } from '../lib/live';
import type { ChartLine } from './line';
import { appendLive, lineFromSeries, type LineData } from './lineData';
import { effectiveSmoothing, sparsest } from './sparse';
import { joinZoom, shareZoom } from './zoomSync';
import { plotData, type PlotData } from './plotData';
import { drawNonFinite, plotOptions } from './plotOptions';
import { nearestLine, readoutHTML } from './readout';
import { seriesQueue } from './queue';
import { joinXAxis, lineInTime, xMode, type XMode } from './xAxis';

export type { ChartLine } from './line';

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

export class ChartController {
  private u: uPlot | null = null;
  private shape = '';
  private pd: PlotData | null = null;
  /** The smoothing the chart is drawn with: the page's, or none for a sparse chart. */
  private drawnSmoothing = 0;
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
  private x: XMode = xMode();
  /** On a time axis, the step of each drawn x, for a click. */
  private xStep = new Map<number, number>();

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
    this.unwatch.push(joinZoom(this), joinXAxis(this));
  }

  /** The page's x axis changed (step, wall or relative time); per-step reward charts keep steps. */
  setXMode(m: XMode): void {
    if (m === this.x) return;
    this.x = m;
    // A zoom is a range of the old axis: drop it (the other charts drop theirs too).
    const fetched = this.fetchedRange;
    if (this.zoom) {
      this.zoom = null;
      this.emit({ zoomed: false });
    }
    if (fetched) this.load();
    else this.schedule();
  }

  private timeX(): boolean {
    return this.axis() !== 'step';
  }

  /** The axis drawn: the page's; system metrics (sampled by the clock, stepped by the second) on wall time. */
  private axis(): XMode {
    if (this.o.supplied) return 'step';
    if (this.o.mode === 'system' && this.x === 'step') return 'wall';
    return this.x;
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

  /** Show range (null: everything), as another chart's zoom asks; not passed on. */
  applyZoom(range: [number, number] | null): void {
    if (range === null) {
      this.clearZoom();
      return;
    }
    this.zoom = range;
    this.u?.setScale('x', { min: range[0], max: range[1] });
    this.emit({ zoomed: true });
    if (this.state.downsampled && !this.o.supplied && !this.timeX()) this.refetchSoon();
  }

  resetZoom(): void {
    if (!this.zoom) return;
    this.clearZoom();
    shareZoom(this, null);
  }

  private clearZoom(): void {
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
    // A zoom on a time axis is a time range: the whole series is fetched and zoomed in place.
    const range = this.zoom && !this.timeX() ? ([Math.floor(this.zoom[0]), Math.ceil(this.zoom[1])] as [number, number]) : null;
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
    const ts: number[] = [];
    for (const p of pts) {
      if (p.mode !== this.o.mode || p.name !== this.o.name) continue;
      steps.push(p.step);
      values.push(p.value);
      ts.push(p.ts);
    }
    if (steps.length === 0) return false;
    let changed = false;
    this.o.lines.forEach((l, i) => {
      const d = this.datas[i];
      if (l.expId === expId && d) changed = appendLive(d, steps, values, ts) || changed;
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
    let present = this.datas.map((d) => d ?? { raw: { step: [], value: [] }, sample: { step: [], value: [] }, downsampled: false, total: 0 });
    this.xStep = new Map();
    if (this.timeX()) {
      const m = this.axis() as Exclude<XMode, 'step'>;
      present = present.map((d) => {
        const t = lineInTime(d, m);
        t.line.sample.step.forEach((x, i) => this.xStep.set(x, t.steps[i]));
        return t.line;
      });
    }
    const smoothing = effectiveSmoothing(this.o.smoothing, present);
    this.drawnSmoothing = smoothing;
    let pd = plotData(present, smoothing, this.log);
    let log = this.log;
    if (log && !pd.positive) {
      // Nothing has a logarithm: stay linear rather than draw an empty chart.
      pd = plotData(present, smoothing, false);
      log = false;
    }
    if (this.state.logUnavailable !== (this.log && !log)) this.emit({ logUnavailable: this.log && !log });
    this.pd = pd;
    const first = present.find((d) => d.raw.step.length > 0);
    this.attrs(present.filter((d) => d.raw.step.length > 0).length, first ? first.raw.step.length : 0);
    if (this.width <= 0) return;

    const axis = this.axis();
    const shape = [log, smoothing > 0, pd.band.map((b) => !!b).join(), this.o.lines.map((l) => l.color).join(), sparsest(present) <= 1, axis].join('|');
    if (this.u && shape === this.shape) {
      this.u.setData(pd.data, !this.zoom);
      if (this.zoom) this.u.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
      return;
    }
    this.u?.destroy();
    this.shape = shape;
    this.host.textContent = '';
    this.u = new uPlot(
      plotOptions(pd, {
        width: this.width,
        height: this.o.height,
        lines: this.o.lines,
        smoothing,
        log,
        x: axis,
        single: present.map((d) => d.raw.step.length === 1),
        hooks: {
          setSelect: [(u) => this.onSelect(u)],
          setCursor: [(u) => this.showReadout(u)],
          draw: [(u) => drawNonFinite(u, this.pd?.nonFinite ?? [])],
        },
      }),
      pd.data,
      this.host,
    );
    if (this.zoom) this.u.setScale('x', { min: this.zoom[0], max: this.zoom[1] });
    this.bindPointer(this.u);
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
    shareZoom(this, [min, max]);
    // Buckets only hide detail when the server downsampled; then ask for the visible range.
    if (this.state.downsampled && !this.o.supplied && !this.timeX()) this.refetchSoon();
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
      const x = u.data[0][idx];
      const step = this.timeX() ? this.xStep.get(x) : x;
      if (step != null) this.o.onPick(step, this.pd ? nearestLine(u, this.pd, idx, this.drawnSmoothing) : 0);
    });
    u.over.addEventListener('dblclick', () => this.resetZoom());
  }

  private showReadout(u: uPlot): void {
    const idx = u.cursor.idx;
    const axis = this.axis();
    this.readout.innerHTML =
      this.pd && idx != null
        ? readoutHTML(u, this.pd, idx, this.o.lines, this.drawnSmoothing, (l, st) => this.loggedAt(l, st), axis, axis === 'step' ? undefined : (x) => this.xStep.get(x))
        : '';
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

