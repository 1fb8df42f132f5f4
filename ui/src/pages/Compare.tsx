// Compare experiments: one chart per metric with a line per run, a legend,
// and the config keys whose values differ.
import { visibleText } from '../lib/text';
import './Compare.css';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Experiment, type Metric } from '../api';
import { navigate, setQuery, useLocation } from '../router';
import { ChartSections, type ChartSectionSpec } from '../charts/ChartSections';
import { ChartToolbar, useChartSize, useSmoothing, useXAxis, useZoomSync } from '../charts/ChartToolbar';
import { color } from '../charts/palette';
import { matchesSearch, sectionsOf } from '../charts/sections';
import { configText, diffConfigs } from '../lib/config';
import { Name } from '../lib/Name';
import { RewardTable } from '../charts/rewards';
import { CompareRollouts } from './CompareRollouts';

type Details = Experiment & { metrics: Metric[] };

export function Compare(props: { ids: string[] }) {
  const key = props.ids.join(',');
  const [exps, setExps] = useState<Details[] | null>(null);
  const [failed, setFailed] = useState<string[]>([]);
  const [smoothing, setSmoothing] = useSmoothing();
  const [zoomSync, onZoomSync] = useZoomSync();
  const [xAxis, onXAxis] = useXAxis();
  const [size, setSize] = useChartSize();
  const [search, setSearch] = useState('');
  // Runs hidden from the charts (?hide=id,id): the legend toggles them.
  const hideParam = useLocation().query.get('hide') ?? '';
  const hidden = useMemo(() => new Set(hideParam.split(',').filter(Boolean)), [hideParam]);

  // Each run's per-step reward summaries, for one reward chart per reward with a line per run.
  const [rewards, setRewards] = useState<Map<string, RewardTable>>(new Map());
  useEffect(() => {
    let live = true;
    setRewards(new Map());
    Promise.allSettled(props.ids.map((id) => api.rewards(id))).then((rs) => {
      if (!live) return;
      setRewards(new Map(rs.flatMap((r, i) => (r.status === 'fulfilled' ? [[props.ids[i], RewardTable.from(r.value.steps)] as const] : []))));
    });
    return () => {
      live = false;
    };
  }, [key]);

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
    const secs: ChartSectionSpec[] = sectionsOf([...union.values()].filter((m) => matchesSearch(m.mode, m.name, search))).map((s) => ({
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
    // Rewards: a chart per (mode, reward) any run logged, a line per run that logged it.
    const rkeys = new Map<string, { mode: string; name: string }>();
    for (const t of rewards.values()) for (const k of t.keys()) rkeys.set(`${k.mode}/${k.name}`, k);
    const rcharts = [...rkeys.values()]
      .filter((k) => matchesSearch('rewards', `${k.name} ${k.mode}`, search))
      .sort((a, b) => (a.mode === b.mode ? a.name.localeCompare(b.name) : a.mode === 'train' ? -1 : b.mode === 'train' ? 1 : a.mode.localeCompare(b.mode)))
      .map((k) => {
        const runs = exps.filter((e) => !hidden.has(e.id) && rewards.get(e.id)?.keys().some((x) => x.mode === k.mode && x.name === k.name));
        return {
          id: `rewards/${k.mode}/${k.name}`,
          mode: k.mode,
          name: k.name,
          title: `${k.name} (${k.mode})`,
          lines: runs.map((e) => ({ key: e.id, label: visibleText(e.name), color: colours.get(e.id)!, expId: e.id })),
          data: runs.map((e) => rewards.get(e.id)!.line(k.mode, k.name)),
          dataVersion: rewards.size,
        };
      });
    if (rcharts.length) secs.push({ mode: 'rewards', title: 'rewards', note: 'per step: each run’s mean, band ± 1 std within min–max', charts: rcharts });
    return { sections: secs, total: union.size + rkeys.size };
  }, [exps, search, colours, hidden, rewards]);

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
            x={xAxis}
            onX={onXAxis}
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
          <CompareRollouts runs={exps.filter((e) => !hidden.has(e.id)).map((e) => ({ exp: e, colour: colours.get(e.id)! }))} />
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
