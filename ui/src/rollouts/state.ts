// The rollout browser's view state lives in the URL query, so a view can be
// shared, reloaded and reached from a chart click (?tab=rollouts&mode=&step=).
import { setQuery } from '../router';

export interface ViewState {
  mode: string | null;
  step: number | null;
  q: string;
  filter: string;
  group: boolean;
  rollout: number | null;
  timeline: boolean;
  /** id (logging order), step, or reward:<name>. */
  sort: string;
  order: 'asc' | 'desc';
  /** Search and filter every step, not only the current one. */
  all: boolean;
  /** Reward weights of the total (name=weight, comma-separated); every reward 1 when empty. */
  weights: string;
  /** Prompts and answers wrap in the table. */
  wrap: boolean;
  /** A second rollout shown side by side with the open one. */
  diff: number | null;
}

function int(s: string | null): number | null {
  if (s === null || !/^\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

export function readState(q: URLSearchParams): ViewState {
  return {
    mode: q.get('mode') || null,
    step: int(q.get('step')),
    q: q.get('q') ?? '',
    filter: q.get('filter') ?? '',
    group: q.get('group') === '1',
    rollout: int(q.get('rollout')),
    timeline: q.get('timeline') === '1',
    sort: q.get('sort') || 'id',
    order: q.get('order') === 'desc' ? 'desc' : 'asc',
    all: q.get('all') === '1',
    weights: q.get('w') ?? '',
    wrap: q.get('wrap') === '1',
    diff: int(q.get('diff')),
  };
}

type Patch = Partial<Record<'mode' | 'step' | 'q' | 'filter' | 'group' | 'rollout' | 'timeline' | 'sort' | 'order' | 'all' | 'w' | 'wrap' | 'diff', string | number | null>>;

/** Change view state; replace (the default) keeps filter typing and j/k out of the back button. */
export function update(p: Patch, push = false): void {
  setQuery(p, { replace: !push });
}
