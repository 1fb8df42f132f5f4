// Sections of charts (one per mode, then rewards), each a collapsible grid.
import { useState } from 'preact/hooks';
import type { LineData } from './lineData';
import { MetricChart, type ChartLine } from './MetricChart';
import { chartSize, type ChartSize } from './ChartToolbar';

export interface ChartSpec {
  id: string;
  mode: string;
  name: string;
  title: string;
  lines: ChartLine[];
  data?: LineData[];
  dataVersion?: number;
}

export interface ChartSectionSpec {
  /** data-mode of the section: a metric mode, or "rewards". */
  mode: string;
  title: string;
  /** A short explanation shown after the title. */
  note?: string;
  charts: ChartSpec[];
}

export function ChartSections(p: {
  sections: ChartSectionSpec[];
  smoothing: number;
  size: ChartSize;
  onPick: (chart: ChartSpec, step: number, line: number) => void;
}) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const sz = chartSize(p.size);
  return (
    <>
      {p.sections.map((s) => {
        const closed = collapsed.has(s.mode);
        return (
          <section class={`chart-section${closed ? ' collapsed' : ''}`} data-testid="chart-section" data-mode={s.mode} key={s.mode}>
            <h2
              onClick={() => {
                const n = new Set(collapsed);
                if (closed) n.delete(s.mode);
                else n.add(s.mode);
                setCollapsed(n);
              }}
            >
              <span class="caret">▾</span>
              {s.title}
              <span class="count">{s.charts.length}</span>
              {s.note && <span class="note">{s.note}</span>}
            </h2>
            {!closed && (
              <div class="chart-grid" style={{ '--chart-min': `${sz.min}px` }}>
                {s.charts.map((c) => (
                  <MetricChart
                    key={c.id}
                    mode={c.mode}
                    name={c.name}
                    title={c.title}
                    lines={c.lines}
                    data={c.data}
                    dataVersion={c.dataVersion}
                    smoothing={p.smoothing}
                    height={sz.height}
                    onPick={(step, line) => p.onPick(c, step, line)}
                  />
                ))}
              </div>
            )}
          </section>
        );
      })}
    </>
  );
}
