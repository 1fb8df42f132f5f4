// Distributions over training: per reward, and of the response length per
// mode, a heatmap of its values (x: steps, y: equal bins between min and
// max; shade: the share of that step's samples in the bin) with the
// p10/p50/p90 lines over it. Where a ±std band over 0/1 rewards covers 0
// to 1 whatever happens, this shows the mass moving from 0 to 1; the
// length heatmap shows responses growing or hitting the cut-off.
// Aggregated on the server from a sketch kept per step.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { RewardKey } from './rewards';
import { formatStep, formatValue } from './format';

type Dist = Awaited<ReturnType<typeof api.distribution>>;

const W = 360;
const H = 150;
const PAD = { l: 44, r: 8, t: 8, b: 20 };
const BINS = 24;
const REFRESH_MS = 30_000;

export function RewardDistributions(props: { experimentId: string; keys: RewardKey[]; lengthModes: string[]; version: number }) {
  if (props.keys.length === 0 && props.lengthModes.length === 0) return null;
  return (
    <section class="chart-section" data-testid="distribution-section">
      <h3 class="chart-section-title">
        distributions <span class="muted">share of each step's samples per value bin; lines p10 · p50 · p90</span>
      </h3>
      <div class="dist-grid">
        {props.keys.map((k) => (
          <RewardHeatmap key={`${k.mode}/${k.name}`} experimentId={props.experimentId} k={k} version={props.version} />
        ))}
        {props.lengthModes.map((mode) => (
          <RewardHeatmap key={`length/${mode}`} experimentId={props.experimentId} k={{ mode, name: '' }} length version={props.version} />
        ))}
      </div>
    </section>
  );
}

/** A reward's heatmap, or with length the response lengths' (in characters). */
function RewardHeatmap(p: { experimentId: string; k: RewardKey; length?: boolean; version: number }) {
  const [d, setD] = useState<Dist | null>(null);
  const [error, setError] = useState('');
  const [hover, setHover] = useState('');
  const canvas = useRef<HTMLCanvasElement>(null);
  // Live rollouts bump version; refetch at most every REFRESH_MS for them.
  const last = useRef(0);
  useEffect(() => {
    if (d && Date.now() - last.current < REFRESH_MS) return;
    const c = new AbortController();
    last.current = Date.now();
    const q = { mode: p.k.mode, bins: BINS, maxSteps: W - PAD.l - PAD.r };
    const read = p.length ? api.lengthDistribution(p.experimentId, q, c.signal) : api.distribution(p.experimentId, { ...q, name: p.k.name }, c.signal);
    read.then(setD, (e: Error) => {
      if (!c.signal.aborted) setError(e.message);
    });
    return () => c.abort();
  }, [p.experimentId, p.k.mode, p.k.name, p.length, p.version]);

  useEffect(() => {
    const cv = canvas.current;
    if (!cv || !d) return;
    draw(cv, d);
  }, [d]);

  const onMove = (e: MouseEvent) => {
    if (!d || !d.steps.length) return;
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const x = e.clientX - r.left - PAD.l;
    const i = Math.floor((x / (W - PAD.l - PAD.r)) * d.steps.length);
    const s = d.steps[Math.max(0, Math.min(d.steps.length - 1, i))];
    const span = d.bucketSteps > 1 ? `steps ${formatStep(s.step, false)}–${formatStep(s.step + d.bucketSteps - 1, false)}` : `step ${formatStep(s.step, false)}`;
    setHover(`${span}: ${s.count} samples · p10 ${formatValue(s.p10, true)} · p50 ${formatValue(s.p50, true)} · p90 ${formatValue(s.p90, true)}${s.nans ? ` · ${s.nans} NaN/Inf` : ''}`);
  };

  const lastStep = d?.steps[d.steps.length - 1];
  return (
    <div
      class="dist-card"
      data-testid={p.length ? 'length-heatmap' : 'reward-heatmap'}
      data-name={p.k.name}
      data-mode={p.k.mode}
      data-buckets={d ? d.steps.length : ''}
      data-p50-last={lastStep ? String(lastStep.p50) : ''}
    >
      <div class="dist-title">
        {p.length ? 'response length' : p.k.name} <span class="muted">{p.length ? `${p.k.mode} · characters` : p.k.mode}</span>
      </div>
      {error ? (
        <div class="error">{error}</div>
      ) : (
        <canvas ref={canvas} width={W} height={H} style={{ width: `${W}px`, height: `${H}px` }} onMouseMove={onMove} onMouseLeave={() => setHover('')} />
      )}
      <div class="dist-hover muted" data-testid="heatmap-readout">
        {hover || (d && d.steps.length ? `${formatValue(d.lo, true)} … ${formatValue(d.hi, true)}` : d ? 'no finite values' : 'loading…')}
      </div>
    </div>
  );
}

function draw(cv: HTMLCanvasElement, d: Dist): void {
  const dpr = window.devicePixelRatio || 1;
  cv.width = W * dpr;
  cv.height = H * dpr;
  const ctx = cv.getContext('2d');
  if (!ctx) return;
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, W, H);
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const n = d.steps.length;
  if (!n) return;
  const cw = pw / n;
  const bh = ph / d.bins;
  for (let i = 0; i < n; i++) {
    const s = d.steps[i];
    if (!s.count) continue;
    for (let b = 0; b < d.bins; b++) {
      const share = s.counts[b] / s.count;
      if (!share) continue;
      // Shade by share, with a floor so a single sample still shows.
      ctx.fillStyle = `rgba(59, 91, 219, ${0.12 + 0.88 * Math.sqrt(share)})`;
      ctx.fillRect(PAD.l + i * cw, PAD.t + ph - (b + 1) * bh, Math.max(cw, 1), bh);
    }
  }
  const span = d.hi - d.lo || 1;
  const y = (v: number) => PAD.t + ph - ((v - d.lo) / span) * ph;
  for (const [key, color, width] of [
    ['p10', '#f59f00', 1],
    ['p90', '#f59f00', 1],
    ['p50', '#e03131', 1.6],
  ] as const) {
    ctx.beginPath();
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    let started = false;
    for (let i = 0; i < n; i++) {
      const v = d.steps[i][key];
      if (!Number.isFinite(v)) {
        started = false;
        continue;
      }
      const px = PAD.l + (i + 0.5) * cw;
      if (started) ctx.lineTo(px, y(v));
      else ctx.moveTo(px, y(v));
      started = true;
    }
    ctx.stroke();
  }
  ctx.fillStyle = '#6b7180';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.fillText(formatValue(d.hi, true), PAD.l - 4, PAD.t + 9);
  ctx.fillText(formatValue(d.lo, true), PAD.l - 4, PAD.t + ph);
  ctx.textAlign = 'left';
  ctx.fillText(formatStep(d.steps[0].step, false), PAD.l, H - 5);
  ctx.textAlign = 'right';
  ctx.fillText(formatStep(d.steps[n - 1].step, false), W - PAD.r, H - 5);
}
