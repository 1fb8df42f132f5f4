// The rollout list: one row per rollout, one column per reward name found
// on the page. Reward headers sort on the server (the page is only a slice).
import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { Rollout } from '../api';
import type { Term } from '../lib/highlight';
import { answerPreview, boxedAnswer, fmtNum, oneLine, responseChars, rewardNames, rewardOf, totalReward } from './format';
import { Highlighted } from './Highlighted';

interface Props {
  rows: Rollout[];
  selected: number | null;
  terms: Term[];
  sort: string;
  order: 'asc' | 'desc';
  onSelect: (id: number) => void;
  onSort: (sort: string) => void;
  /** Rows from several steps: show each one's step. */
  showStep?: boolean;
  /** Weights of the total column (see parseWeights). */
  weights?: Map<string, number>;
}

export function RolloutTable(p: Props) {
  // Derived once per page, not per selection change: responses run to 30 KB.
  const names = useMemo(() => rewardNames(p.rows), [p.rows]);
  const derived = useMemo(() => p.rows.map((r) => ({ answer: answerPreview(r), boxed: boxedAnswer(r), len: responseChars(r) })), [p.rows]);
  const weights = p.weights ?? new Map<string, number>();
  const showTotal = names.length > 1 || weights.size > 0;
  const showBoxed = derived.some((d) => d.boxed);
  const body = useRef<HTMLTableSectionElement>(null);

  // Keep the selected row in view when j/k or a live update moves it.
  useEffect(() => {
    const el = body.current?.querySelector<HTMLElement>('tr.selected');
    el?.scrollIntoView({ block: 'nearest' });
  }, [p.selected]);

  const arrow = (sort: string) => (p.sort === sort ? (p.order === 'asc' ? ' ↑' : ' ↓') : '');
  return (
    <table class="grid rp-table" data-testid="rollout-table">
      <thead>
        <tr>
          <th class="sortable num rp-id" title="Logging order" onClick={() => p.onSort('id')}>
            #{arrow('id')}
          </th>
          {p.showStep && (
            <th class="sortable num" onClick={() => p.onSort('step')}>
              step{arrow('step')}
            </th>
          )}
          <th>prompt</th>
          <th>answer</th>
          {showBoxed && <th title="The last \\boxed{} of the answer">boxed</th>}
          <th class="num" title="Characters of the response (reasoning included)">len</th>
          {showTotal && (
            <th class="num" data-testid="total-col" title={weights.size ? `Σ ${[...weights].map(([n, w]) => `${w}·${n}`).join(' + ')}` : 'The sum of the rewards'}>
              total
            </th>
          )}
          {names.map((n) => (
            <th
              key={n}
              class="sortable num"
              data-testid="reward-col"
              data-name={n}
              title={`Sort by ${n}`}
              aria-sort={p.sort === `reward:${n}` ? (p.order === 'asc' ? 'ascending' : 'descending') : undefined}
              onClick={() => p.onSort(`reward:${n}`)}
            >
              {breakable(n)}
              {arrow(`reward:${n}`)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody ref={body}>
        {p.rows.map((r, i) => (
          <tr
            key={r.id}
            data-testid="rollout-row"
            data-id={r.id}
            class={r.id === p.selected ? 'selected' : ''}
            aria-selected={r.id === p.selected}
            onClick={() => p.onSelect(r.id)}
          >
            <td class="num muted rp-id">{r.id}</td>
            {p.showStep && (
              <td class="num" data-testid="rollout-step">
                {r.step}
              </td>
            )}
            <td class="rp-prompt" title={r.promptText.slice(0, 2000)}>
              <Highlighted text={oneLine(r.promptText)} terms={p.terms} />
            </td>
            <td class="rp-answer">
              <Highlighted text={derived[i].answer} terms={p.terms} />
            </td>
            {showBoxed && (
              <td class="mono rp-boxed" data-testid="rollout-boxed">
                {derived[i].boxed}
              </td>
            )}
            <td class="num rp-len" data-testid="rollout-len">
              {derived[i].len.toLocaleString('en-US')}
            </td>
            {showTotal && (
              <td class="num rp-reward" data-testid="rollout-total">
                {fmtNum(totalReward(r, weights))}
              </td>
            )}
            {names.map((n) => {
              const v = rewardOf(r, n);
              return (
                <td key={n} class={'num rp-reward' + (v === undefined ? ' muted' : Number.isNaN(v) ? ' nan' : '')} title={v === undefined ? `no ${n} reward` : undefined}>
                  {v === undefined ? '–' : fmtNum(v)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A reward name that wraps after its underscores (length_penalty -> length_ / penalty), not mid-word. */
function breakable(name: string) {
  const parts = name.split(/(?<=[_\-./])/);
  return parts.map((part, i) => (
    <>
      {part}
      {i < parts.length - 1 && <wbr />}
    </>
  ));
}
