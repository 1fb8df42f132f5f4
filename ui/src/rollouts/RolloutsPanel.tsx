// The RL rollout browser (the experiment page's rollouts tab): pick a mode
// and step, filter by rewards, search the text, sort by a reward, read a
// rollout as a chat, compare a prompt's samples (GRPO groups) and follow a
// prompt across steps. All view state is in the URL (see state.ts).
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type Rollout } from '../api';
import { parseFilter, matches } from '../lib/filter';
import { searchTerms } from '../lib/highlight';
import { useLive } from '../lib/live';
import { useLocation } from '../router';
import { ChatView } from './ChatView';
import { DiffView } from './DiffView';
import { GroupList } from './GroupList';
import { RolloutTable } from './RolloutTable';
import { readState, update } from './state';
import { parseWeights } from './format';
import { orderModes, stepsOf, useSteps } from './steps';
import { ModeToggle, nearest, StepPicker } from './StepPicker';
import { useRolloutPage } from './useRolloutPage';
import './rollouts.css';

const SEARCH_DELAY = 250;
const FILTER_DELAY = 300;

/** A key press the user meant for a text field, which j/k and / must not steal. */
function isTyping(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  return el instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'button', 'submit', 'reset'].includes(el.type);
}

export function RolloutsPanel(props: { experimentId: string }) {
  const { experimentId } = props;
  const loc = useLocation();
  const st = readState(loc.query);

  const [reload, setReload] = useState(0);
  const { steps, error: stepsError, add: countLive } = useSteps(experimentId, reload);

  const modes = useMemo(() => (steps ? orderModes(steps) : []), [steps]);
  const mode = st.mode ?? (modes.includes('train') ? 'train' : (modes[0] ?? null));
  const modeSteps = useMemo(() => (steps ? stepsOf(steps, mode) : []), [steps, mode]);
  const latest = modeSteps.length ? modeSteps[modeSteps.length - 1] : null;
  const step = st.step ?? latest;
  const countAt = steps?.find((s) => s.mode === mode && s.step === step)?.count ?? 0;

  // Pin the defaults in the URL: the view is shareable, and a new step
  // arriving live does not move a user who never chose one.
  useEffect(() => {
    if (mode !== null && step !== null && (st.mode === null || st.step === null)) update({ mode, step });
  }, [mode, step, st.mode, st.step]);

  // A chart click can name a step without rollouts (scalars every step,
  // rollouts every 10): go to the nearest step that has some, and say so.
  const [snapped, setSnapped] = useState<{ from: number; to: number } | null>(null);
  useEffect(() => {
    if (st.step === null || !modeSteps.length || modeSteps.includes(st.step)) return;
    const to = nearest(modeSteps, st.step);
    setSnapped({ from: st.step, to });
    update({ step: to });
  }, [st.step, modeSteps]);
  useEffect(() => {
    if (snapped && step !== snapped.to) setSnapped(null);
  }, [step]);

  // Search and filter boxes: typed text is local; the URL gets it once it
  // settles (and, for the filter, once it parses).
  const [qText, setQText] = useState(st.q);
  const [filterText, setFilterText] = useState(st.filter);
  const searchBox = useRef<HTMLInputElement>(null);
  const filterBox = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (document.activeElement !== searchBox.current) setQText(st.q);
  }, [st.q]);
  useEffect(() => {
    if (document.activeElement !== filterBox.current) setFilterText(st.filter);
  }, [st.filter]);
  useEffect(() => {
    if (qText === st.q) return;
    const t = setTimeout(() => update({ q: qText.trim() ? qText : null }), SEARCH_DELAY);
    return () => clearTimeout(t);
  }, [qText]);
  const draft = useMemo(() => parseFilter(filterText), [filterText]);
  useEffect(() => {
    if (!draft.ok || filterText === st.filter) return;
    const t = setTimeout(() => update({ filter: filterText.trim() ? filterText : null }), FILTER_DELAY);
    return () => clearTimeout(t);
  }, [filterText, draft.ok]);
  const applied = useMemo(() => parseFilter(st.filter), [st.filter]);
  const clauses = applied.ok ? applied.clauses : [];
  const filterError = !draft.ok ? draft : !applied.ok ? applied : null;

  const terms = useMemo(() => searchTerms(st.q), [st.q]);
  const weights = useMemo(() => parseWeights(st.weights), [st.weights]);
  const [weightsText, setWeightsText] = useState(st.weights);
  useEffect(() => setWeightsText(st.weights), [st.weights]);
  // Across steps only when there is something to look for: the whole run unfiltered is not a view.
  const acrossSteps = st.all && (st.q.trim() !== '' || clauses.length > 0);
  const pageQuery =
    mode !== null && step !== null && !st.group
      ? { mode, ...(acrossSteps ? {} : { step }), reward: applied.ok ? applied.params : [], q: st.q, sort: st.sort, order: st.order }
      : null;
  const { page, stale, loadMore, append } = useRolloutPage(experimentId, pageQuery, reload);
  const rows = page.rows;

  // The opened rollout: from a list already loaded when possible, else fetched.
  const known = useRef(new Map<number, Rollout>());
  // Bounded: a long session of paging through steps must not keep them all.
  if (known.current.size > 5000) known.current.clear();
  // Previews carry no messages: the chat view fetches those whole.
  for (const r of rows) if (!r.preview) known.current.set(r.id, r);
  const whole = useWholeRollouts(experimentId, known.current);
  const detail = useRolloutDetail(st.rollout, known.current, whole);
  // Rows are previews: fetch whole the rollouts a reader is about to open (the row under the
  // pointer, the open one's neighbours for j/k), so opening them needs no request.
  const prefetched = useRef(new Set<number>());
  useEffect(() => prefetched.current.clear(), [experimentId]);
  const prefetch = useCallback(
    (id: number) => {
      // Bounded: a long session of hovering must not fetch every rollout of the run.
      if (prefetched.current.has(id) || prefetched.current.size > 2000) return;
      prefetched.current.add(id);
      whole(id).catch(() => prefetched.current.delete(id));
    },
    [whole],
  );
  useEffect(() => {
    const i = rows.findIndex((r) => r.id === st.rollout);
    if (i < 0) return;
    for (const j of [i + 1, i - 1]) if (rows[j]) prefetch(rows[j].id);
  }, [st.rollout, rows]);
  const diffDetail = useRolloutDetail(st.diff, known.current, whole);

  // Where the open rollout stands in the table: its prompt and its rank among
  // that prompt's samples, so a step change opens the same sample of the same
  // prompt, and a search that no longer matches it closes it.
  const openAt = useRef<{ prompt: string; rank: number; step: number | null } | null>(null);
  useEffect(() => {
    if (st.group || stale || page.loading || st.rollout === null) return;
    const i = rows.findIndex((r) => r.id === st.rollout);
    if (i >= 0) {
      const r = rows[i];
      openAt.current = { prompt: r.promptText, rank: rows.slice(0, i).filter((x) => x.promptText === r.promptText).length, step };
      return;
    }
    const was = openAt.current;
    if (!was) return;
    if (was.step !== step && !acrossSteps) {
      const same = rows.filter((r) => r.promptText === was.prompt);
      const next = same[Math.min(was.rank, same.length - 1)];
      if (next) {
        update({ rollout: next.id });
        return;
      }
    }
    // Not in this view (a search or filter left it out, or the prompt is not at this step): close it.
    openAt.current = null;
    update({ rollout: null });
  }, [page.key, page.loading, stale, st.rollout]);

  const open = (r: Rollout) => {
    if (!r.preview) known.current.set(r.id, r);
    update(r.step !== step || r.mode !== mode ? { rollout: r.id, step: r.step, mode: r.mode } : { rollout: r.id });
  };
  const setStep = (s: number) => update({ step: s });
  const setMode = (m: string) => {
    if (m === mode) return;
    const ms = stepsOf(steps ?? [], m);
    update({ mode: m, step: ms.length ? nearest(ms, step ?? ms[ms.length - 1]) : null, rollout: null });
  };
  const onSort = (s: string) => {
    if (s === st.sort) update({ order: st.order === 'asc' ? 'desc' : null });
    else update({ sort: s === 'id' ? null : s, order: null });
  };

  // Live: new steps extend the slider; new rollouts at the step on screen
  // join the table when they would be on this page anyway (logging order,
  // end of the list, passing the filter, no text search to judge them by);
  // otherwise only the count grows.
  const [groupTick, setGroupTick] = useState(0);
  const groupTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (groupTimer.current !== null && clearTimeout(groupTimer.current)), []);
  useLive(experimentId, {
    rollouts: (rs) => {
      countLive(rs);
      const here = rs.filter((r) => r.mode === mode && r.step === step);
      if (!here.length) return;
      if (st.group) {
        // Group stats change with every sample: refresh once a burst has
        // had 2 s to land, not once per event.
        if (groupTimer.current === null) {
          groupTimer.current = setTimeout(() => {
            groupTimer.current = null;
            setGroupTick((n) => n + 1);
          }, 2000);
        }
        return;
      }
      if (!stale && !page.loading && !page.more && st.sort === 'id' && st.order === 'asc' && !st.q.trim()) {
        append(here.filter((r) => matches(clauses, r.rewards)));
      }
    },
    reconnected: () => setReload((n) => n + 1),
  });

  // Keyboard: j/k move, Enter/o open, / search, [ ] step, Esc leaves a field.
  const chatRef = useRef<HTMLDivElement>(null);
  const [help, setHelp] = useState(false);
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keys.current = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey) return;
    if (e.key === 'Escape' && help) {
      setHelp(false);
      e.preventDefault();
      return;
    }
    if (e.key === 'Escape' && st.diff !== null && !isTyping(e.target)) {
      update({ diff: null });
      e.preventDefault();
      return;
    }
    if (e.key === 'Escape') {
      const el = document.activeElement;
      if (el instanceof HTMLElement && el !== document.body) {
        // Leave the field, keep its text: a search box would otherwise clear
        // itself without an input event, out of step with the URL.
        e.preventDefault();
        el.blur();
      }
      return;
    }
    if (isTyping(e.target)) return;
    const idx = rows.findIndex((r) => r.id === st.rollout);
    const move = (d: number) => {
      if (st.group) {
        // In groups, walk the samples of the expanded groups as laid out.
        const cards = Array.from(document.querySelectorAll<HTMLElement>('[data-testid="group-sample"]'));
        const at = cards.findIndex((c) => c.dataset.id === String(st.rollout));
        const next = cards[at < 0 ? 0 : Math.max(0, Math.min(cards.length - 1, at + d))];
        next?.click();
        next?.scrollIntoView({ block: 'nearest' });
        return;
      }
      if (!rows.length) return;
      const i = idx < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, idx + d));
      if (idx === rows.length - 1 && d > 0 && page.more) loadMore();
      update({ rollout: rows[i].id });
    };
    switch (e.key) {
      case 'j':
        move(1);
        break;
      case 'k':
        move(-1);
        break;
      case 'Enter':
      case 'o': {
        const t = e.target as HTMLElement;
        if (e.key === 'Enter' && t.closest?.('button, a, summary')) return;
        if (idx < 0 && rows.length && !st.group) update({ rollout: rows[0].id });
        chatRef.current?.querySelector<HTMLElement>('[data-testid="chat-view"]')?.focus({ preventScroll: true });
        chatRef.current?.scrollIntoView({ block: 'nearest' });
        break;
      }
      case '/':
        searchBox.current?.focus();
        searchBox.current?.select();
        break;
      case '?':
        setHelp((h) => !h);
        break;
      case 'w':
        update({ wrap: st.wrap ? null : 1 });
        break;
      case '[':
      case ']': {
        const i = modeSteps.indexOf(step ?? -1);
        const s = modeSteps[i + (e.key === ']' ? 1 : -1)];
        if (s !== undefined) setStep(s);
        break;
      }
      default:
        return;
    }
    e.preventDefault();
  };
  useEffect(() => {
    const f = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', f);
    return () => document.removeEventListener('keydown', f);
  }, []);

  if (stepsError) return <div class="error rp-pad">Could not load rollouts: {stepsError}</div>;
  if (!steps) return <div class="muted rp-pad">Loading rollouts…</div>;
  if (!steps.length) {
    return (
      <div class="empty">
        No rollouts logged yet. Log some with <code>expt_logger.log_rollout(prompt=..., messages=[...], rewards={'{...}'})</code>; they appear here live.
      </div>
    );
  }

  const filtered = clauses.length > 0 || st.q.trim() !== '';
  return (
    <div class="rp">
      {help && <Shortcuts onClose={() => setHelp(false)} />}
      <div class="rp-bar">
        <ModeToggle modes={modes} mode={mode} onMode={setMode} />
        <StepPicker steps={modeSteps} step={step} onStep={setStep} />
        <span class="rp-count" data-testid="step-count">
          <strong>{countAt.toLocaleString()}</strong> rollouts at step {step}
          {filtered && !st.group && (
            <span class="muted">
              {' '}
              · {rows.length.toLocaleString()}
              {page.more ? '+' : ''} match
            </span>
          )}
        </span>
        {snapped && (
          <span class="muted" data-testid="step-snapped">
            (no rollouts at step {snapped.from})
          </span>
        )}
        <span class="spacer" />
        {latest !== null && step !== null && latest > step && (
          <button class="rp-latest" data-testid="jump-latest" onClick={() => setStep(latest)}>
            Latest: step {latest} →
          </button>
        )}
      </div>
      <div class="rp-bar">
        <input
          ref={searchBox}
          class="rp-search"
          type="search"
          data-testid="rollout-search"
          placeholder="Search prompts and messages  ( / )"
          value={qText}
          onInput={(e) => setQText((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') update({ q: qText.trim() ? qText : null });
          }}
        />
        <div class="rp-filter">
          <input
            ref={filterBox}
            class={'mono' + (filterError ? ' invalid' : '')}
            data-testid="reward-filter"
            placeholder='Filter rewards: correctness < 0.5 and "length penalty" >= -1'
            spellcheck={false}
            aria-invalid={filterError !== null}
            value={filterText}
            onInput={(e) => setFilterText((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && draft.ok) update({ filter: filterText.trim() ? filterText : null });
            }}
          />

          {filterError && !filterError.ok && (
            <div class="rp-filter-error" data-testid="filter-error" role="alert">
              <span class="mono rp-caret-line">
                {filterText.slice(0, filterError.pos)}
                <span class="rp-err-at">{filterText.slice(filterError.pos) || ' '}</span>
              </span>
              <span>
                at {filterError.pos + 1}: {filterError.error}
                {applied.ok && st.filter ? ` (still showing: ${st.filter})` : ''}
              </span>
            </div>
          )}
        </div>
        <input
          class="mono rp-weights"
          data-testid="reward-weights"
          placeholder="weights: correctness=1, format=0.2"
          title="Weights of the total reward (and of the advantage in groups); every reward counts 1 when empty"
          value={weightsText}
          onInput={(e) => setWeightsText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') update({ w: weightsText.trim() || null });
          }}
          onBlur={() => weightsText.trim() !== st.weights && update({ w: weightsText.trim() || null })}
        />
        <label class="rp-group-toggle" title="Search and filter every step of this mode, not only the current one">
          <input type="checkbox" data-testid="search-all-steps" checked={st.all} onChange={(e) => update({ all: e.currentTarget.checked ? 1 : null })} />
          All steps
        </label>
        <label class="rp-group-toggle" title="Wrap long prompts and answers instead of cutting them to one line (w)">
          <input type="checkbox" data-testid="wrap-toggle" checked={st.wrap} onChange={(e) => update({ wrap: e.currentTarget.checked ? 1 : null })} />
          Wrap
        </label>
        <label class="rp-group-toggle">
          <input
            type="checkbox"
            data-testid="group-toggle"
            checked={st.group}
            onChange={(e) => update({ group: (e.target as HTMLInputElement).checked ? 1 : null })}
          />{' '}
          Group by prompt
        </label>
      </div>

      <div class={'rp-body' + (st.diff !== null ? ' diffing' : '')}>
        <div class={'rp-list' + (!st.group && (page.loading || stale) ? ' loading' : '')}>
          {st.group && mode !== null && step !== null ? (
            <>
              {clauses.length > 0 && <div class="muted rp-note">Groups show every sample; the reward filter applies to the table.</div>}
              <GroupList
                experimentId={experimentId}
                mode={mode}
                step={step}
                q={st.q}
                terms={terms}
                selected={st.rollout}
                reload={reload + groupTick}
                onOpen={open}
                onDiff={(a, b) => update({ rollout: a.id, diff: b.id })}
                weights={weights}
              />
            </>
          ) : (
            <>
              {page.error && <div class="error rp-pad">{page.error}</div>}
              <RolloutTable
                rows={rows}
                selected={st.rollout}
                terms={terms}
                sort={st.sort}
                order={st.order}
                showStep={acrossSteps}
                weights={weights}
                wrap={st.wrap}
                // A hit from another step opens at its step: the step picker follows.
                onSelect={(id) => update({ rollout: id, ...(acrossSteps ? { step: rows.find((r) => r.id === id)?.step ?? null } : {}) })}
                onSort={onSort}
                onHover={prefetch}
              />
              {!rows.length && !page.loading && !stale && <div class="empty">{filtered ? 'No rollouts match.' : 'No rollouts at this step.'}</div>}
              {page.more && (
                <button class="rp-more" data-testid="load-more" disabled={page.loading} onClick={loadMore}>
                  {page.loading ? 'Loading…' : 'More'}
                </button>
              )}
            </>
          )}
        </div>
        <div class="rp-detail" ref={chatRef}>
          {st.diff !== null && detail.r ? (
            <DiffView
              left={detail.r}
              right={diffDetail.r}
              loading={diffDetail.loading}
              error={diffDetail.error}
              terms={terms}
              onClose={() => update({ diff: null })}
              onSwap={() => update({ rollout: st.diff, diff: st.rollout })}
            />
          ) : (
            <ChatView
              experimentId={experimentId}
              rollout={detail.r}
              loading={detail.loading}
              error={detail.error}
              terms={terms}
              timeline={st.timeline}
              onTimeline={(on) => update({ timeline: on ? 1 : null })}
              onOpen={open}
              onDiff={(r) => update({ diff: r.id })}
            />
          )}
        </div>
      </div>
    </div>
  );
}

/**
 * Whole rollouts by id (rows are previews): from known, else fetched once, a request in flight
 * shared by whoever asks next (the row under the pointer, then its click).
 */
function useWholeRollouts(experimentId: string, known: Map<number, Rollout>) {
  const inflight = useRef(new Map<number, Promise<Rollout>>());
  useEffect(() => inflight.current.clear(), [experimentId]);
  return useCallback(
    (id: number): Promise<Rollout> => {
      const have = known.get(id);
      if (have) return Promise.resolve(have);
      let p = inflight.current.get(id);
      if (!p) {
        p = api.rollout(experimentId, id).then(
          (r) => {
            known.set(r.id, r);
            inflight.current.delete(id);
            return r;
          },
          (e: unknown) => {
            inflight.current.delete(id);
            throw e;
          },
        );
        inflight.current.set(id, p);
      }
      return p;
    },
    [experimentId],
  );
}

/** One rollout by id, whole. */
function useRolloutDetail(id: number | null, known: Map<number, Rollout>, whole: (id: number) => Promise<Rollout>) {
  const [detail, setDetail] = useState<{ r: Rollout | null; loading: boolean; error: string | null }>({ r: null, loading: false, error: null });
  useEffect(() => {
    if (id === null) return setDetail({ r: null, loading: false, error: null });
    const have = known.get(id);
    if (have) return setDetail({ r: have, loading: false, error: null });
    let live = true;
    setDetail((d) => ({ ...d, loading: true, error: null }));
    whole(id).then(
      (r) => live && setDetail({ r, loading: false, error: null }),
      (e: Error) => live && setDetail({ r: null, loading: false, error: e.message }),
    );
    return () => {
      live = false;
    };
  }, [whole, id]);
  return detail;
}

const SHORTCUTS: [string, string][] = [
  ['j / k', 'next / previous rollout'],
  ['Enter or o', 'open the selected rollout'],
  ['[ / ]', 'previous / next step (the same prompt and sample stay open)'],
  ['/', 'search prompts and messages'],
  ['w', 'wrap long prompts and answers in the table, or cut them to one line'],
  ['Esc', 'leave a text box; close this list; close the side-by-side view'],
  ['?', 'show or hide this list'],
];

/** The rollout browser's keyboard shortcuts, on ?. */
function Shortcuts(p: { onClose: () => void }) {
  return (
    <div class="rp-shortcuts" data-testid="shortcuts" role="dialog" aria-label="Keyboard shortcuts" onClick={p.onClose}>
      <div class="rp-shortcuts-box" onClick={(e) => e.stopPropagation()}>
        <strong>Keyboard shortcuts</strong>
        <table>
          <tbody>
            {SHORTCUTS.map(([k, what]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
