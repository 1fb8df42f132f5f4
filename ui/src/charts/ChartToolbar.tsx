// The toolbar above a page of charts: smoothing (shared by every chart, kept
// in ?smooth=), a name filter and the chart size. Used by the experiment's
// charts tab and by the compare page.
import { useEffect, useRef, useState } from 'preact/hooks';
import { setQuery, useLocation } from '../router';
import { setZoomSync } from './zoomSync';
import { parseXMode, setXMode, type XMode } from './xAxis';
import './charts.css';

/**
 * TensorBoard's default. RL metrics (rewards, KL, loss per batch) are noisy
 * enough that the raw line alone hides the trend, yet 0.6 reacts within a
 * few points, so a collapse is not smoothed away; the raw line stays faint
 * underneath either way.
 */
export const DEFAULT_SMOOTHING = 0.6;

export function parseSmoothing(s: string | null): number {
  if (s === null || s.trim() === '') return DEFAULT_SMOOTHING;
  const v = Number(s);
  if (!Number.isFinite(v)) return DEFAULT_SMOOTHING;
  return Math.min(0.99, Math.max(0, v));
}

/**
 * The page's smoothing weight. The slider moves the charts at once; the URL
 * follows a moment later, so dragging does not rewrite history 60 times a second.
 */
export function useSmoothing(): [number, (v: number) => void] {
  const loc = useLocation();
  const fromURL = parseSmoothing(loc.query.get('smooth'));
  const [v, setV] = useState(fromURL);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const own = useRef(fromURL);
  useEffect(() => {
    // Back/forward or a pasted link changed it.
    if (fromURL !== own.current) {
      own.current = fromURL;
      setV(fromURL);
    }
  }, [fromURL]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const set = (x: number) => {
    setV(x);
    own.current = x;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setQuery({ smooth: x === DEFAULT_SMOOTHING ? null : x }), 200);
  };
  return [v, set];
}

export type ChartSize = 's' | 'm' | 'l';
const SIZES: Record<ChartSize, { min: number; height: number; label: string }> = {
  s: { min: 300, height: 170, label: 'S' },
  m: { min: 420, height: 230, label: 'M' },
  l: { min: 640, height: 330, label: 'L' },
};

export function chartSize(s: ChartSize): { min: number; height: number } {
  return SIZES[s];
}

/** Whether zoom is shared by the page's charts: on unless the URL says ?zoomsync=0. */
export function useZoomSync(): [boolean, (on: boolean) => void] {
  const on = useLocation().query.get('zoomsync') !== '0';
  setZoomSync(on);
  return [on, (x) => setQuery({ zoomsync: x ? null : 0 })];
}

/** The x axis of every chart on the page: ?x=wall|relative, steps by default. */
export function useXAxis(): [XMode, (m: XMode) => void] {
  const m = parseXMode(useLocation().query.get('x'));
  // After render: telling the charts redraws them, which must not happen inside this render.
  useEffect(() => setXMode(m), [m]);
  return [m, (x) => setQuery({ x: x === 'step' ? null : x })];
}

/** Remembered per browser: it is a matter of screen size, not of the experiment. */
export function useChartSize(): [ChartSize, (s: ChartSize) => void] {
  const [s, setS] = useState<ChartSize>(() => {
    const v = localStorage.getItem('expt.chartSize');
    return v === 's' || v === 'm' || v === 'l' ? v : 'm';
  });
  return [
    s,
    (x) => {
      localStorage.setItem('expt.chartSize', x);
      setS(x);
    },
  ];
}

export function ChartToolbar(p: {
  smoothing: number;
  onSmoothing: (v: number) => void;
  search: string;
  onSearch: (s: string) => void;
  size: ChartSize;
  onSize: (s: ChartSize) => void;
  shown: number;
  total: number;
  zoomSync: boolean;
  onZoomSync: (on: boolean) => void;
  x?: XMode;
  onX?: (m: XMode) => void;
}) {
  return (
    <div class="toolbar charts-toolbar">
      <input
        type="search"
        placeholder="Filter charts by name"
        data-testid="metric-search"
        value={p.search}
        onInput={(e) => p.onSearch((e.target as HTMLInputElement).value)}
      />
      {p.search && (
        <span class="muted">
          {p.shown} of {p.total}
        </span>
      )}
      <span class="spacer" />
      {p.onX && (
        <label title="What the x axis measures: the step, the wall clock, or the time since each run's first point (per-step reward charts stay on steps)">
          x{' '}
          <select data-testid="x-axis" value={p.x ?? 'step'} onChange={(e) => p.onX!(parseXMode(e.currentTarget.value))}>
            <option value="step">step</option>
            <option value="wall">wall time</option>
            <option value="relative">relative time</option>
          </select>
        </label>
      )}
      <label title="Zooming one chart (drag across it) zooms every chart to the same steps; double-click resets them all">
        <input type="checkbox" data-testid="zoom-sync" checked={p.zoomSync} onChange={(e) => p.onZoomSync(e.currentTarget.checked)} /> Sync zoom
      </label>
      <label title="Exponential moving average, debiased as in TensorBoard. 0 draws the raw values only.">
        Smoothing
        <input
          type="range"
          min="0"
          max="0.99"
          step="0.01"
          data-testid="smoothing"
          value={p.smoothing}
          onInput={(e) => p.onSmoothing(Number((e.target as HTMLInputElement).value))}
        />
        <span class="smooth-value">{p.smoothing.toFixed(2)}</span>
      </label>
      <span class="seg" title="Chart size">
        {(Object.keys(SIZES) as ChartSize[]).map((k) => (
          <button type="button" data-testid={`chart-size-${k}`} class={p.size === k ? 'on' : ''} aria-pressed={p.size === k} onClick={() => p.onSize(k)}>
            {SIZES[k].label}
          </button>
        ))}
      </span>
    </div>
  );
}
