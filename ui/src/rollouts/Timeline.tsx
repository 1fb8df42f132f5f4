// The same prompt across steps: every rollout of it in step order, with a
// sparkline of each reward's mean per step, to see whether training moved it.
import { useEffect, useState } from 'preact/hooks';
import { api, type Rollout } from '../api';
import { answerPreview, fmtNum, rewardNames, rewardOf } from './format';
import { Name } from '../lib/Name';
import { previewQuery } from '../lib/reasoning';

// Pages of the server's largest size, up to a cap: a prompt reused every
// step of a long run at 64 samples would otherwise be unbounded.
const PAGE = 1000;
const CAP = 5000;

function Sparkline(props: { name: string; points: [number, number][] }) {
  const pts = props.points.filter(([, v]) => Number.isFinite(v));
  if (pts.length < 2) return null;
  const w = 140;
  const h = 28;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  const sx = (x: number) => (x1 > x0 ? ((x - x0) / (x1 - x0)) * (w - 4) + 2 : w / 2);
  const sy = (y: number) => (y1 > y0 ? h - 3 - ((y - y0) / (y1 - y0)) * (h - 6) : h / 2);
  const d = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  return (
    <div class="rp-spark" title={`${props.name}: mean per step, ${fmtNum(y0)} to ${fmtNum(y1)}`}>
      <Name class="rp-spark-name" text={props.name} />
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden="true">
        <polyline points={d} fill="none" stroke="var(--accent)" stroke-width="1.5" />
        {pts.map(([x, y]) => (
          <circle key={x} cx={sx(x)} cy={sy(y)} r="1.8" fill="var(--accent)" />
        ))}
      </svg>
      <span class="muted mono">
        {fmtNum(ys[0])} → {fmtNum(ys[ys.length - 1])}
      </span>
    </div>
  );
}

export function Timeline(props: { experimentId: string; rollout: Rollout; onOpen: (r: Rollout) => void; onDiff?: (r: Rollout) => void }) {
  const { rollout } = props;
  const [rows, setRows] = useState<Rollout[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const c = new AbortController();
    setRows(null);
    setError(null);
    (async () => {
      const all: Rollout[] = [];
      for (;;) {
        const q = { prompt: rollout.promptText, mode: rollout.mode, sort: 'step', offset: all.length, limit: PAGE, ...previewQuery() };
        const r = await api.rollouts(props.experimentId, q, c.signal);
        all.push(...r.rollouts);
        if (!r.more || all.length >= CAP) return { all, more: r.more };
      }
    })()
      .then(({ all, more }) => {
        setRows(all);
        setMore(more);
      })
      .catch((e: Error) => !c.signal.aborted && setError(e.message));
    return () => c.abort();
  }, [props.experimentId, rollout.promptText, rollout.mode]);

  if (error) return <div class="error">{error}</div>;
  if (!rows) return <div class="muted rp-timeline">Loading the prompt's history…</div>;

  const names = rewardNames(rows);
  const bySteps = new Map<number, Rollout[]>();
  for (const r of rows) bySteps.set(r.step, [...(bySteps.get(r.step) ?? []), r]);
  const means = (n: string): [number, number][] =>
    [...bySteps].map(([step, rs]) => {
      const vs = rs.map((r) => rewardOf(r, n)).filter((v): v is number => v !== undefined && Number.isFinite(v));
      return [step, vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : NaN];
    });

  return (
    <div class="rp-timeline" data-testid="timeline">
      <div class="rp-timeline-head">
        <strong>This prompt over training</strong>
        <span class="muted">
          {rows.length}
          {more ? '+' : ''} rollouts at {bySteps.size} step{bySteps.size === 1 ? '' : 's'}
        </span>
      </div>
      <div class="rp-sparks">
        {names.slice(0, 4).map((n) => (
          <Sparkline key={n} name={n} points={means(n)} />
        ))}
      </div>
      <ol class="rp-timeline-list">
        <li class="rp-tl-header" aria-hidden="true">
          <span class="rp-tl-step" />
          <span class="rp-tl-rewards">
            {names.map((n) => (
              <span key={n} title={n}>
                {n}
              </span>
            ))}
          </span>
          <span>answer</span>
        </li>
        {rows.map((r, i) => (
          <li key={r.id} class={i > 0 && rows[i - 1].step === r.step ? 'same-step' : ''}>
            <button
              data-testid="timeline-step"
              data-step={r.step}
              data-id={r.id}
              class={r.id === rollout.id ? 'current' : ''}
              onClick={() => props.onOpen(r)}
            >
              <span class="rp-tl-step">step {r.step}</span>
              <span class="rp-tl-rewards mono">
                {names.map((n) => (
                  <span key={n} title={n}>
                    {fmtNum(rewardOf(r, n))}
                  </span>
                ))}
              </span>
              <span class="rp-tl-answer">{answerPreview(r)}</span>
            </button>
            {props.onDiff && r.id !== rollout.id && (
              <button class="link rp-tl-diff" data-testid="timeline-diff" data-id={r.id} title="Side by side with the open rollout" onClick={() => props.onDiff!(r)}>
                ↔
              </button>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
