// The rollout list: one row per rollout, one column per reward name found
// on the page. Reward headers sort on the server (the page is only a slice).
// A page holds a whole step (up to 1,000 rollouts): unless rows wrap, only
// those in view (and a screen either side) are in the DOM, between two
// spacer rows, so a step switch lays out ~60 rows, not 1,000.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
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
  /** The pointer rests on a row: its rollout may be opened next. */
  onHover?: (id: number) => void;
  onSort: (sort: string) => void;
  /** Rows from several steps: show each one's step. */
  showStep?: boolean;
  /** Weights of the total column (see parseWeights). */
  weights?: Map<string, number>;
  /** Prompts and answers wrap instead of being cut at one line. */
  wrap?: boolean;
}

/** Pages longer than this draw only the rows in view. */
const VIRTUAL_FROM = 150;
const OVERSCAN = 30;
const WIDTHS_KEY = 'expt.rolloutColumns';
type ResizableCol = 'prompt' | 'answer' | 'boxed';

function savedWidths(): Partial<Record<ResizableCol, number>> {
  try {
    const v = JSON.parse(localStorage.getItem(WIDTHS_KEY) ?? '{}') as Record<string, unknown>;
    const out: Partial<Record<ResizableCol, number>> = {};
    for (const k of ['prompt', 'answer', 'boxed'] as const) if (typeof v[k] === 'number' && v[k] >= 48) out[k] = v[k];
    return out;
  } catch {
    return {};
  }
}

/** The rows [first, last) in the window's view, with overscan; all of them when not virtual. */
function useVisibleRows(body: { current: HTMLTableSectionElement | null }, n: number, virtual: boolean) {
  const rowH = useRef(29);
  const [range, setRange] = useState<[number, number]>([0, Math.min(n, 80)]);
  const measure = useRef(() => undefined as void);
  measure.current = () => {
    const tb = body.current;
    if (!tb || !virtual) return;
    const real = tb.querySelector<HTMLElement>('tr[data-testid="rollout-row"]');
    // Fractional: whole pixels would drift by a row every few dozen rows.
    const h0 = real?.getBoundingClientRect().height ?? 0;
    if (h0 > 0) rowH.current = h0;
    const top = tb.getBoundingClientRect().top;
    const h = rowH.current;
    const first = Math.max(0, Math.min(n, Math.floor(-top / h) - OVERSCAN));
    const last = Math.max(first, Math.min(n, Math.ceil((window.innerHeight - top) / h) + OVERSCAN));
    setRange((r) => (r[0] === first && r[1] === last ? r : [first, last]));
  };
  useLayoutEffect(() => measure.current());
  useEffect(() => {
    const on = () => measure.current();
    window.addEventListener('scroll', on, { passive: true });
    window.addEventListener('resize', on);
    return () => {
      window.removeEventListener('scroll', on);
      window.removeEventListener('resize', on);
    };
  }, []);
  return { first: virtual ? range[0] : 0, last: virtual ? Math.min(range[1], n) : n, rowH };
}

export function RolloutTable(p: Props) {
  // Derived once per page, not per selection change: responses run to 30 KB.
  const names = useMemo(() => rewardNames(p.rows), [p.rows]);
  const derived = useMemo(() => p.rows.map((r) => ({ answer: answerPreview(r), boxed: boxedAnswer(r), len: responseChars(r), tokens: r.tokenCount ?? 0 })), [p.rows]);
  const weights = p.weights ?? new Map<string, number>();
  const showTotal = names.length > 1 || weights.size > 0;
  const showBoxed = derived.some((d) => d.boxed);
  const showTokens = derived.some((d) => d.tokens > 0);
  const body = useRef<HTMLTableSectionElement>(null);
  const virtual = !p.wrap && p.rows.length > VIRTUAL_FROM;
  const { first, last, rowH } = useVisibleRows(body, p.rows.length, virtual);
  const [widths, setWidths] = useState(savedWidths);

  // Keep the selected row in view when j/k or a live update moves it, drawn or not.
  useEffect(() => {
    const el = body.current?.querySelector<HTMLElement>('tr.selected');
    if (el) return el.scrollIntoView({ block: 'nearest' });
    const i = p.rows.findIndex((r) => r.id === p.selected);
    const tb = body.current;
    if (i < 0 || !tb || !virtual) return;
    const y = tb.getBoundingClientRect().top + window.scrollY + i * rowH.current;
    window.scrollTo({ top: Math.max(0, y - window.innerHeight / 2) });
    // Drawn on the scroll's frame: then put it exactly in view.
    requestAnimationFrame(() => requestAnimationFrame(() => body.current?.querySelector<HTMLElement>('tr.selected')?.scrollIntoView({ block: 'center' })));
    // A new page (its first row), not a live row appended, brings the selection back into view.
  }, [p.selected, p.rows[0]?.id]);

  // Drag a header's right edge to resize its column; double-click resets it.
  const resizer = (col: ResizableCol) => (
    <span
      class="rp-resize"
      data-testid="col-resize"
      data-col={col}
      title="Drag to resize · double-click to reset"
      onClick={(e) => e.stopPropagation()}
      onDblClick={() => {
        const { [col]: _, ...rest } = widths;
        setWidths(rest);
        localStorage.setItem(WIDTHS_KEY, JSON.stringify(rest));
      }}
      onPointerDown={(e) => {
        const handle = e.currentTarget as HTMLElement;
        const th = handle.parentElement as HTMLElement;
        const x0 = e.clientX;
        const w0 = th.getBoundingClientRect().width;
        handle.setPointerCapture(e.pointerId);
        let w = w0;
        const move = (m: PointerEvent) => {
          w = Math.max(48, Math.round(w0 + m.clientX - x0));
          setWidths((old) => ({ ...old, [col]: w }));
        };
        const up = () => {
          handle.removeEventListener('pointermove', move);
          handle.removeEventListener('pointerup', up);
          setWidths((old) => {
            localStorage.setItem(WIDTHS_KEY, JSON.stringify(old));
            return old;
          });
        };
        handle.addEventListener('pointermove', move);
        handle.addEventListener('pointerup', up);
        e.preventDefault();
      }}
    />
  );
  const colStyle = (col: ResizableCol) => (widths[col] ? { width: `${widths[col]}px` } : undefined);
  const columns = 4 + (p.showStep ? 1 : 0) + (showBoxed ? 1 : 0) + (showTokens ? 1 : 0) + (showTotal ? 1 : 0) + names.length;

  const arrow = (sort: string) => (p.sort === sort ? (p.order === 'asc' ? ' ↑' : ' ↓') : '');
  return (
    <table class={'grid rp-table' + (p.wrap ? ' wrap' : '')} data-testid="rollout-table" data-virtual={virtual ? `${first}-${last}` : undefined}>
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
          <th class="rp-prompt-h" style={colStyle('prompt')}>
            prompt{resizer('prompt')}
          </th>
          <th style={colStyle('answer')}>answer{resizer('answer')}</th>
          {showBoxed && (
            <th title="The last \\boxed{} of the answer" style={colStyle('boxed')}>
              boxed{resizer('boxed')}
            </th>
          )}
          <th class="num" title="Characters of the response (reasoning included)">len</th>
          {showTokens && (
            <th class="num" title="Tokens logged with the rollout (log_rollout(tokens=...))">tokens</th>
          )}
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
        {first > 0 && (
          <tr class="rp-spacer" aria-hidden="true" style={{ height: `${first * rowH.current}px` }}>
            <td colSpan={columns} />
          </tr>
        )}
        {p.rows.slice(first, last).map((r, j) => {
          const i = first + j;
          return (
          <tr
            key={r.id}
            data-testid="rollout-row"
            data-id={r.id}
            class={r.id === p.selected ? 'selected' : ''}
            aria-selected={r.id === p.selected}
            onClick={() => p.onSelect(r.id)}
            onMouseEnter={p.onHover && (() => p.onHover!(r.id))}
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
            {showTokens && (
              <td class="num rp-len" data-testid="rollout-tokens">
                {derived[i].tokens ? derived[i].tokens.toLocaleString('en-US') : '–'}
              </td>
            )}
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
          );
        })}
        {last < p.rows.length && (
          <tr class="rp-spacer" aria-hidden="true" style={{ height: `${(p.rows.length - last) * rowH.current}px` }}>
            <td colSpan={columns} />
          </tr>
        )}
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
