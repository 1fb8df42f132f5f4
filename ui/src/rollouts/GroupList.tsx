// GRPO groups at one step: the rollouts that share a prompt, with each
// reward's mean/std/min/max. A group whose rewards all have zero spread gives
// every sample the same advantage (zero), so it teaches the policy nothing;
// those are badged and counted, since many of them means wasted compute.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Group, type Rollout } from '../api';
import type { Term } from '../lib/highlight';
import { previewQuery } from '../lib/reasoning';
import { answerPreview, fmtNum, oneLine, rewardOf, textHash, totalReward } from './format';
import { Highlighted } from './Highlighted';

const GROUPS = 1000;

/** A group's identity at one step: its prompt text and its explicit id ('' when none). */
export const groupKey = (g: Group): string => textHash(g.promptText) + ':' + (g.group ?? '');

export function zeroVariance(g: Group): boolean {
  return g.rewards.length > 0 && g.rewards.every((r) => r.std === 0 && r.nans === 0);
}

/** Whether one reward is the same for every sample of the group (it adds nothing to the advantage). */
export const flat = (g: Group, name: string): boolean => {
  const r = g.rewards.find((x) => x.name === name);
  return !!r && g.count > 1 && r.std === 0 && r.nans === 0;
};

/**
 * GRPO's advantage of each sample: its total reward (the sum of the named
 * rewards) minus the group's mean, over the group's standard deviation; 0
 * when the group has no spread. NaN rewards count as missing.
 */
export function advantages(rows: Rollout[], weights: Map<string, number> = new Map()): number[] {
  const totals = rows.map((r) => {
    const t = totalReward(r, weights);
    return Number.isNaN(t) ? 0 : t;
  });
  const n = totals.length;
  if (n === 0) return [];
  const mean = totals.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(totals.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return totals.map((t) => (std > 1e-12 ? (t - mean) / std : 0));
}

interface Props {
  experimentId: string;
  mode: string;
  step: number;
  q: string;
  terms: Term[];
  selected: number | null;
  reload: number;
  onOpen: (r: Rollout) => void;
  /** Open two rollouts side by side. */
  onDiff?: (a: Rollout, b: Rollout) => void;
  weights?: Map<string, number>;
}

export function GroupList(p: Props) {
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [onlyZero, setOnlyZero] = useState(false);
  const [sortBy, setSortBy] = useState('');

  useEffect(() => {
    const c = new AbortController();
    setError(null);
    api
      .groups(p.experimentId, { mode: p.mode, step: p.step, q: p.q || undefined, limit: GROUPS }, c.signal)
      .then((r) => {
        setGroups(r.groups);
        setMore(r.more);
      })
      .catch((e: Error) => !c.signal.aborted && setError(e.message));
    return () => c.abort();
  }, [p.experimentId, p.mode, p.step, p.q, p.reload]);

  if (error) return <div class="error rp-pad">{error}</div>;
  if (!groups) return <div class="muted rp-pad">Loading groups…</div>;
  if (!groups.length) return <div class="empty">No rollouts at this step{p.q ? ' match the search' : ''}.</div>;

  const zero = groups.filter(zeroVariance).length;
  const names = [...new Set(groups.flatMap((g) => g.rewards.map((r) => r.name)))];
  const filtered = onlyZero ? groups.filter(zeroVariance) : groups;
  // By spread: the groups that teach the most (widest std of that reward) first.
  const spread = (g: Group) => g.rewards.find((r) => r.name === sortBy)?.std ?? -1;
  const shown = sortBy ? [...filtered].sort((a, b) => spread(b) - spread(a)) : filtered;
  const toggle = (h: string) => {
    const s = new Set(open);
    if (s.has(h)) s.delete(h);
    else s.add(h);
    setOpen(s);
  };

  return (
    <div class="rp-groups">
      <div class="rp-groups-head">
        <span>
          {groups.length}
          {more ? '+' : ''} prompt groups
        </span>
        <span class={'badge' + (zero ? ' warn' : '')} data-testid="zero-var-count" title="Groups where every reward is identical across samples: zero advantage, no learning signal">
          {zero} zero-variance
        </span>
        {zero > 0 && (
          <label class="muted">
            <input type="checkbox" checked={onlyZero} onChange={(e) => setOnlyZero((e.target as HTMLInputElement).checked)} /> only these
          </label>
        )}
        <span class="spacer" />
        <label class="muted">
          Order{' '}
          <select data-testid="group-sort" value={sortBy} onChange={(e) => setSortBy(e.currentTarget.value)}>
            <option value="">as logged</option>
            {names.map((n) => (
              <option value={n}>by spread of {n}</option>
            ))}
          </select>
        </label>
      </div>
      <table class="grid rp-group-table">
        <thead>
          <tr>
            <th />
            <th>prompt</th>
            <th class="num">n</th>
            {names.map((n) => (
              <th key={n} class="num rp-stat-h" title="mean ± std [min, max]">
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((g) => {
            const h = groupKey(g);
            const isOpen = open.has(h);
            const z = zeroVariance(g);
            return (
              <Fragment key={h}>
                <tr
                  data-testid="group-row"
                  data-prompt-hash={textHash(g.promptText)}
                  data-group={g.group ?? ''}
                  class={'rp-group' + (isOpen ? ' open' : '')}
                  onClick={() => toggle(h)}
                >
                  <td class="rp-caret">{isOpen ? '▾' : '▸'}</td>
                  <td class="rp-group-prompt" title={g.promptText.slice(0, 2000)}>
                    <div class="rp-clamp">
                      {z && (
                        <span class="badge warn" data-testid="zero-var" title="Every reward is identical across this group's samples: zero advantage">
                          zero var
                        </span>
                      )}{' '}
                      {g.group && (
                        <span class="badge rp-group-id" data-testid="group-id" title={`Group id ${g.group} (log_rollout(group=...))`}>
                          {oneLine(g.group, 60)}
                        </span>
                      )}{' '}
                      <Highlighted text={oneLine(g.promptText, 600)} terms={p.terms} />
                    </div>
                  </td>
                  <td class="num">{g.count}</td>
                  {names.map((n) => {
                    const s = g.rewards.find((r) => r.name === n);
                    return (
                      <td key={n} class="num rp-stat">
                        {s ? (
                          <>
                            {flat(g, n) && (
                              <span class="badge warn rp-flat" data-testid="zero-var-reward" title={`${n} is the same for every sample: it adds nothing to the advantage`}>
                                flat
                              </span>
                            )}
                            <span>{fmtNum(s.mean)}</span>
                            <span class="muted"> ±{fmtNum(s.std)}</span>
                            <div class="muted rp-minmax" title={`min ${fmtNum(s.min)}, max ${fmtNum(s.max)}${s.nans ? `, ${s.nans} NaN` : ''}`}>
                              [{fmtNum(s.min)}, {fmtNum(s.max)}]{s.nans ? ` · ${s.nans} NaN` : ''}
                            </div>
                          </>
                        ) : (
                          ''
                        )}
                      </td>
                    );
                  })}
                </tr>
                {isOpen && (
                  <tr class="rp-group-open">
                    <td colSpan={3 + names.length}>
                      <GroupSamples {...p} group={g} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function GroupSamples(p: Props & { group: Group }) {
  const [rows, setRows] = useState<Rollout[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const c = new AbortController();
    api
      .rollouts(
        p.experimentId,
        { mode: p.mode, step: p.step, prompt: p.group.promptText, group: p.group.group ?? '', limit: 200, ...previewQuery() },
        c.signal,
      )
      .then((r) => setRows(r.rollouts))
      .catch((e: Error) => !c.signal.aborted && setError(e.message));
    return () => c.abort();
  }, [p.experimentId, p.mode, p.step, p.group.promptText, p.group.group, p.reload]);
  if (error) return <div class="error">{error}</div>;
  if (!rows) return <div class="muted">Loading samples…</div>;
  const adv = advantages(rows, p.weights);
  return (
    <div>
      <Strip rows={rows} adv={adv} selected={p.selected} onOpen={p.onOpen} />
      {p.onDiff && rows.length > 1 && (
        <button
          class="link"
          data-testid="best-vs-worst"
          title="The sample with the highest advantage beside the one with the lowest"
          onClick={(e) => {
            e.stopPropagation();
            let hi = 0;
            let lo = 0;
            adv.forEach((a, i) => {
              if (a > adv[hi]) hi = i;
              if (a < adv[lo]) lo = i;
            });
            p.onDiff!(rows[hi], rows[lo]);
          }}
        >
          Best vs worst side by side
        </button>
      )}
      <div class="rp-samples">
      {rows.map((r, i) => (
        <button
          key={r.id}
          class={'rp-sample' + (r.id === p.selected ? ' selected' : '')}
          data-testid="group-sample"
          data-id={r.id}
          onClick={(e) => {
            e.stopPropagation();
            p.onOpen(r);
          }}
        >
          <div class="rp-sample-head">
            <span class="muted">#{r.id}</span>
            <span class={'rp-adv ' + (adv[i] > 0 ? 'pos' : adv[i] < 0 ? 'neg' : '')} data-testid="sample-advantage" title="GRPO advantage: (total reward − group mean) / group std">
              A {adv[i] >= 0 ? '+' : ''}
              {adv[i].toFixed(2)}
            </span>
            {r.rewards.map((w) => (
              <span key={w.name} class={'rp-chip' + (Number.isNaN(w.value) ? ' nan' : '')} title={w.name}>
                <span class="muted">{w.name}</span> {fmtNum(rewardOf(r, w.name))}
              </span>
            ))}
          </div>
          <div class="rp-sample-answer">
            <Highlighted text={answerPreview(r)} terms={p.terms} />
          </div>
        </button>
      ))}
      </div>
    </div>
  );
}

/** The group's samples as dots along their advantage: who pulls the policy, and how hard. */
function Strip(p: { rows: Rollout[]; adv: number[]; selected: number | null; onOpen: (r: Rollout) => void }) {
  const W = 320;
  const H = 28;
  const lim = Math.max(1, ...p.adv.map(Math.abs));
  const x = (a: number) => W / 2 + (a / lim) * (W / 2 - 8);
  return (
    <svg class="rp-strip" data-testid="advantage-strip" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="advantage of each sample">
      <line x1={W / 2} x2={W / 2} y1={2} y2={H - 2} class="rp-strip-zero" />
      {p.rows.map((r, i) => (
        <circle
          key={r.id}
          cx={x(p.adv[i])}
          cy={H / 2 + ((i % 3) - 1) * 6}
          r={r.id === p.selected ? 5 : 3.5}
          class={p.adv[i] > 0 ? 'pos' : p.adv[i] < 0 ? 'neg' : 'zero'}
          onClick={(e) => {
            e.stopPropagation();
            p.onOpen(r);
          }}
        >
          <title>
            #{r.id}: advantage {p.adv[i].toFixed(2)}
          </title>
        </circle>
      ))}
    </svg>
  );
}
