// Compare experiments: one chart per metric with a line per run, a legend,
// and the config keys whose values differ.
import { visibleText } from '../lib/text';
import './Compare.css';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Experiment, type Metric } from '../api';
import { navigate } from '../router';
import { ChartSections, type ChartSectionSpec } from '../charts/ChartSections';
import { ChartToolbar, useChartSize, useSmoothing, useZoomSync } from '../charts/ChartToolbar';
import { color } from '../charts/palette';
import { matchesSearch, sectionsOf } from '../charts/sections';
import { configText, diffConfigs } from '../lib/config';
import { Name } from '../lib/Name';

type Details = Experiment & { metrics: Metric[] };

export function Compare(props: { ids: string[] }) {
  const key = props.ids.join(',');
  const [exps, setExps] = useState<Details[] | null>(null);
  const [failed, setFailed] = useState<string[]>([]);
  const [smoothing, setSmoothing] = useSmoothing();
  const [zoomSync, onZoomSync] = useZoomSync();
  const [size, setSize] = useChartSize();
  const [search, setSearch] = useState('');

  useEffect(() => {
    let live = true;
    setExps(null);
    Promise.allSettled(props.ids.map((id) => api.details(id))).then((rs) => {
      if (!live) return;
      setExps(rs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
      setFailed(rs.flatMap((r, i) => (r.status === 'rejected' ? [`${props.ids[i]}: ${(r.reason as Error).message}`] : [])));
    });
    return () => {
      live = false;
    };
  }, [key]);

  // A run keeps its colour by its place in ?ids=, whichever runs failed to load.
  const colours = useMemo(() => new Map(props.ids.map((id, i) => [id, color(i)])), [key]);

  const { sections, total } = useMemo(() => {
    if (!exps) return { sections: [] as ChartSectionSpec[], total: 0 };
    const union = new Map<string, Metric>();
    for (const e of exps) for (const m of e.metrics) union.set(`${m.mode}/${m.name}`, m);
    const secs = sectionsOf([...union.values()].filter((m) => matchesSearch(m.mode, m.name, search))).map((s) => ({
      mode: s.mode,
      title: s.mode,
      charts: s.items.map((m) => ({
        id: `${m.mode}/${m.name}`,
        mode: m.mode,
        name: m.name,
        title: m.name,
        // Only runs that logged this metric: an empty line would still cost a request.
        lines: exps
          .flatMap((e) => {
            const own = e.metrics.find((x) => x.mode === m.mode && x.name === m.name);
            return own ? [{ key: e.id, label: visibleText(e.name), color: colours.get(e.id)!, expId: e.id, count: own.count }] : [];
          }),
      })),
    }));
    return { sections: secs, total: union.size };
  }, [exps, search, colours]);

  if (props.ids.length === 0) {
    return (
      <div class="page">
        <h1>Compare</h1>
        <p class="empty">
          Select experiments on the <a href="/">experiments list</a> and press Compare.
        </p>
      </div>
    );
  }
  const shown = sections.reduce((n, s) => n + s.charts.length, 0);
  return (
    <div class="page compare">
      <h1>Compare {props.ids.length} experiments</h1>
      {failed.length > 0 && <p class="error">Could not load {failed.join('; ')}</p>}
      {!exps ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <div class="compare-legend" data-testid="compare-legend">
            {exps.map((e) => (
              <a class="legend-item" data-testid="legend-item" data-id={e.id} href={`/experiments/${encodeURIComponent(e.id)}`} key={e.id}>
                <i class="swatch" style={{ background: colours.get(e.id) }} />
                <Name text={e.name} />
                {e.status === 'active' && <span class="badge active">active</span>}
              </a>
            ))}
          </div>
          <ChartToolbar
            smoothing={smoothing}
            onSmoothing={setSmoothing}
            search={search}
            onSearch={setSearch}
            size={size}
            onSize={setSize}
            shown={shown}
            total={total}
            zoomSync={zoomSync}
            onZoomSync={onZoomSync}
          />
          {total === 0 ? (
            <div class="charts-empty">None of these experiments has logged metrics.</div>
          ) : (
            <ChartSections
              sections={sections}
              smoothing={smoothing}
              size={size}
              onPick={(c, step, line) => {
                const e = c.lines[line]?.expId;
                if (e) navigate(`/experiments/${encodeURIComponent(e)}?tab=rollouts&mode=${encodeURIComponent(c.mode)}&step=${step}`);
              }}
            />
          )}
          <ConfigDiff exps={exps} colours={colours} />
        </>
      )}
    </div>
  );
}

function ConfigDiff(p: { exps: Details[]; colours: Map<string, string> }) {
  // Same flattening as the config tab, so a diff-row's data-key names the same key there.
  const rows = useMemo(() => diffConfigs(p.exps.map((e) => e.config ?? {})), [p.exps]);
  return (
    <section class="config-diff">
      <h2>
        Config differences <span class="muted">{rows.length === 0 ? '(none: every key has the same value)' : `(${rows.length} keys)`}</span>
      </h2>
      <table class="grid" data-testid="config-diff">
        <thead>
          <tr>
            <th>key</th>
            {p.exps.map((e) => (
              <th key={e.id}>
                <i class="swatch" style={{ background: p.colours.get(e.id) }} />
                <Name text={e.name} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr data-testid="diff-row" data-key={r.key} key={r.key}>
              <td class="mono">{r.key}</td>
              {r.values.map((v, i) => (
                <td class="mono" key={i}>
                  {v === undefined ? <span class="muted" title="not set in this run">—</span> : typeof v === 'string' ? v : configText(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
