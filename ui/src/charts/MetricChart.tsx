// One chart: a header with its buttons, the uPlot canvas, the hover read-out.
// Created lazily: until the chart scrolls near the viewport it is an empty
// box and costs neither a request nor a canvas.
import 'uplot/dist/uPlot.min.css';
import './charts.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChartController, type ChartLine, type ChartState } from './chartController';
import type { LineData } from './lineData';

export type { ChartLine } from './chartController';

export interface MetricChartProps {
  mode: string;
  name: string;
  title: string;
  lines: ChartLine[];
  smoothing: number;
  height: number;
  /** Data the parent holds (rewards); without it the chart fetches its metric per line. */
  data?: LineData[];
  /** Bump when data changed in place. */
  dataVersion?: number;
  onPick: (step: number, line: number) => void;
}

export function MetricChart(p: MetricChartProps) {
  const root = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const ctl = useRef<ChartController | null>(null);
  const [st, setSt] = useState<ChartState>({ loading: false, error: null, zoomed: false, downsampled: false, logUnavailable: false });
  const [log, setLog] = useState(false);
  const identity = `${p.mode}\u0000${p.name}\u0000${!!p.data}\u0000${p.lines.map((l) => `${l.key}:${l.color}`).join()}`;

  useEffect(() => {
    const c = new ChartController(root.current!, host.current!, readout.current!, {
      mode: p.mode,
      name: p.name,
      lines: p.lines,
      smoothing: p.smoothing,
      height: p.height,
      supplied: !!p.data,
      onState: setSt,
      onPick: p.onPick,
    });
    ctl.current = c;
    if (p.data) c.setData(p.data);
    c.setLog(log);
    const io = new IntersectionObserver((es) => c.setVisible(es[es.length - 1].isIntersecting), { rootMargin: '150px 0px' });
    io.observe(root.current!);
    const ro = new ResizeObserver((es) => c.setSize(es[es.length - 1].contentRect.width));
    ro.observe(host.current!);
    return () => {
      io.disconnect();
      ro.disconnect();
      c.destroy();
      ctl.current = null;
    };
    // The controller is rebuilt only when what it draws changes identity; the
    // rest is passed in by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [identity]);

  useEffect(() => ctl.current?.setSmoothing(p.smoothing), [p.smoothing]);
  useEffect(() => ctl.current?.setHeight(p.height), [p.height]);
  useEffect(() => ctl.current?.setCallbacks(p.onPick), [p.onPick]);
  useEffect(() => {
    if (p.data) ctl.current?.setData(p.data);
  }, [p.data, p.dataVersion]);

  return (
    <div class="chart" data-testid="chart" data-mode={p.mode} data-name={p.name} ref={root}>
      <div class="chart-head">
        <span class="chart-title" title={p.title}>
          {p.title}
        </span>
        {st.downsampled && !st.zoomed && (
          <span class="chart-note" title="The server sent min, max and last per bucket; drag across the chart to zoom into full detail">
            sampled
          </span>
        )}
        {st.logUnavailable && <span class="chart-note warn">no values &gt; 0 for log</span>}
        <span class="chart-tools">
          <button
            type="button"
            class={log ? 'on' : ''}
            aria-pressed={log}
            data-testid="log-toggle"
            title="Logarithmic y axis (values ≤ 0 are left out)"
            onClick={() => {
              setLog(!log);
              ctl.current?.setLog(!log);
            }}
          >
            log y
          </button>
          {/* Shown only while zoomed: a button that does nothing otherwise only puzzles. */}
          <button
            type="button"
            class={'chart-reset' + (st.zoomed ? ' on' : ' idle')}
            data-testid="zoom-reset"
            aria-label="Reset zoom"
            title={st.zoomed ? 'Show every step again (or double-click the chart)' : 'Drag across the chart to zoom into a range of steps'}
            disabled={!st.zoomed}
            onClick={() => ctl.current?.resetZoom()}
          >
            ↺ all steps
          </button>
        </span>
      </div>
      <div class="chart-plot" style={{ height: `${p.height}px` }}>
        {/* uPlot owns this element's children; Preact renders only its siblings. */}
        <div class="chart-canvas" ref={host} />
        {st.error && <div class="chart-msg error">{st.error}</div>}
        {st.loading && <div class="chart-msg loading" />}
      </div>
      <div class="chart-readout" ref={readout} />
    </div>
  );
}
