// Compare experiments: one chart per metric with a line per run, a legend,
// and the config keys whose values differ.
import { visibleText } from '../lib/text';
import './Compare.css';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Experiment, type Metric } from '../api';
import { navigate, setQuery, useLocation } from '../router';
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
  // Runs hidden from the charts (?hide=id,id): the legend toggles them.
  const hideParam = useLocation().query.get('hide') ?? '';
  const hidden = useMemo(() => new Set(hideParam.split(',').filter(Boolean)), [hideParam]);

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
          .filter((e) => !hidden.has(e.id))
          .flatMap((e) => {
            const own = e.metrics.find((x) => x.mode === m.mode && x.name === m.name);
            return own ? [{ key: e.id, label: visibleText(e.name), color: colours.get(e.id)!, expId: e.id, count: own.count }] : [];
          }),
      })),
    }));
    return { sections: secs, total: union.size };
  }, [exps, search, colours, hidden]);

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
              <span class={'legend-item' + (hidden.has(e.id) ? ' hidden' : '')} data-testid="legend-item" data-id={e.id} key={e.id}>
                <button
                  type="button"
                  class="link legend-toggle"
                  data-testid="legend-toggle"
                  aria-pressed={!hidden.has(e.id)}
                  title={hidden.has(e.id) ? 'Show this run on the charts' : 'Hide this run from the charts'}
                  onClick={() => {
                    const next = new Set(hidden);
                    if (next.has(e.id)) next.delete(e.id);
                    else next.add(e.id);
                    setQuery({ hide: [...next].join(',') || null });
                  }}
                >
                  <i class="swatch" style={{ background: hidden.has(e.id) ? 'transparent' : colours.get(e.id) }} />
                </button>
                <a href={`/experiments/${encodeURIComponent(e.id)}`}>
                  <Name text={e.name} />
                </a>
                {e.status === 'active' && <span class="badge active">active</span>}
              </span>
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
