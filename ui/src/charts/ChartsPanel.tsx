// The experiment's charts tab: one chart per metric in sections by mode,
// then the rewards of its rollouts; live while the run logs.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type Experiment, type Metric } from '../api';
import { useLive } from '../lib/live';
import { setQuery } from '../router';
import { ChartSections, type ChartSectionSpec } from './ChartSections';
import { ChartToolbar, useChartSize, useSmoothing, useXAxis, useZoomSync } from './ChartToolbar';
import { color } from './palette';
import { RewardTable } from './rewards';
import { RewardDistributions } from './RewardHeatmap';
import { matchesSearch, naturalCompare, sectionsOf } from './sections';

const METRIC_COLOR = color(0);
const REWARD_COLOR = color(4);

export function ChartsPanel(props: { experiment: Experiment; metrics: Metric[] }) {
  const id = props.experiment.id;
  const [smoothing, setSmoothing] = useSmoothing();
  const [zoomSync, onZoomSync] = useZoomSync();
  const [xAxis, onXAxis] = useXAxis();
  const [size, setSize] = useChartSize();
  const [search, setSearch] = useState('');
  // Metrics first seen in the live stream, after the page loaded its list.
  const [found, setFound] = useState<Metric[]>([]);
  const known = useRef(new Set<string>());
  const [rewards, setRewards] = useState<{ table: RewardTable; version: number }>({ table: new RewardTable(), version: 0 });
  const rewardTick = useRef<ReturnType<typeof setTimeout>>();

  const metrics = useMemo(() => {
    const all = new Map<string, Metric>();
    for (const m of [...props.metrics, ...found]) all.set(`${m.mode}/${m.name}`, m);
    known.current = new Set(all.keys());
    return [...all.values()];
  }, [props.metrics, found]);

  const loadRewards = () =>
    api.rewards(id).then(
      (r) => setRewards((old) => ({ table: RewardTable.from(r.steps), version: old.version + 1 })),
      () => undefined, // the rewards section is extra; the metric charts still work
    );
  useEffect(() => {
    setFound([]);
    void loadRewards();
    return () => clearTimeout(rewardTick.current);
  }, [id]);

  useLive(id, {
    scalars: (pts) => {
      // Charts append their own points; here only names never seen before matter.
      const fresh = new Map<string, Metric>();
      for (const p of pts) {
        const k = `${p.mode}/${p.name}`;
        if (!known.current.has(k) && !fresh.has(k)) fresh.set(k, { mode: p.mode, name: p.name, count: 1, lastStep: p.step });
      }
      if (fresh.size > 0) {
        for (const k of fresh.keys()) known.current.add(k);
        setFound((f) => [...f, ...fresh.values()]);
      }
    },
    rollouts: (rs) => {
      if (!rewards.table.addRollouts(rs)) return;
      // Many small batches a second would redraw every reward chart each time; once per half second is live enough.
      if (rewardTick.current) return;
      rewardTick.current = setTimeout(() => {
        rewardTick.current = undefined;
        setRewards((r) => ({ table: r.table, version: r.version + 1 }));
      }, 500);
    },
    reconnected: () => {
      api.metrics(id).then(
        (r) => setFound(r.metrics),
        () => undefined,
      );
      void loadRewards();
    },
  });

  const sections = useMemo<ChartSectionSpec[]>(() => {
    const out: ChartSectionSpec[] = sectionsOf(metrics.filter((m) => matchesSearch(m.mode, m.name, search))).map((s) => ({
      mode: s.mode,
      title: s.mode,
      charts: s.items.map((m) => ({
        id: `${m.mode}/${m.name}`,
        mode: m.mode,
        name: m.name,
        title: m.name,
        lines: [{ key: id, label: props.experiment.name, color: METRIC_COLOR, expId: id, count: m.count }],
      })),
    }));
    const keys = rewards.table.keys();
    const modes = new Set(keys.map((k) => k.mode));
    const charts = keys
      .filter((k) => matchesSearch('rewards', `${k.name} ${k.mode}`, search))
      .sort((a, b) => naturalCompare(a.name, b.name) || (a.mode === b.mode ? 0 : a.mode === 'train' ? -1 : b.mode === 'train' ? 1 : naturalCompare(a.mode, b.mode)))
      .map((k) => ({
        id: `rewards/${k.mode}/${k.name}`,
        // data-mode is the rollouts' mode, so a click opens the rollouts of that mode.
        mode: k.mode,
        name: k.name,
        title: modes.size > 1 ? `${k.name} (${k.mode})` : k.name,
        lines: [{ key: `${k.mode}/${k.name}`, label: k.name, color: REWARD_COLOR }],
        data: [rewards.table.line(k.mode, k.name)],
        dataVersion: rewards.version,
      }));
    if (charts.length > 0) out.push({ mode: 'rewards', title: 'rewards', note: 'rollouts per step: mean line, band ± 1 std within min–max', charts });
    return out;
  }, [metrics, search, rewards, id, props.experiment.name]);

  const total = metrics.length + rewards.table.keys().length;
  const shown = sections.reduce((n, s) => n + s.charts.length, 0);

  return (
    <div class="charts-panel">
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
        <div class="charts-empty">
          No metrics yet. Log some with <code>expt_logger.log({'{'}"train/loss": 0.5{'}'})</code>; charts appear here as they arrive.
        </div>
      ) : shown === 0 ? (
        <div class="charts-empty">No chart matches “{search}”.</div>
      ) : (
        <>
          <ChartSections
            sections={sections}
            smoothing={smoothing}
            size={size}
            onPick={(c, step) => setQuery({ tab: 'rollouts', mode: c.mode, step }, { replace: false })}
          />
          <RewardDistributions
            experimentId={id}
            keys={rewards.table.keys().filter((k) => matchesSearch('rewards', `${k.name} ${k.mode}`, search))}
            lengthModes={[...new Set(rewards.table.keys().map((k) => k.mode))].filter((m) => matchesSearch('rewards', `response length ${m}`, search))}
            version={rewards.version}
          />
        </>
      )}
    </div>
  );
}
