// One page of rollouts for the current view, fetched with a single request
// per change. A new view aborts the request in flight, and the old rows stay
// on screen (dimmed) until the new page arrives, so moving through steps never
// flashes an empty table.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, type Rollout } from '../api';
import { previewQuery } from '../lib/reasoning';

// A page as large as a step of 64 prompts × 16 samples: previews only (the
// server sends no messages), and the table draws only the rows in view.
export const PAGE = 1000;

export interface PageQuery {
  mode: string;
  /** Absent: every step (a search or filter across the run). */
  step?: number;
  reward: string[];
  q: string;
  sort: string;
  order: 'asc' | 'desc';
}

export interface Page {
  rows: Rollout[];
  more: boolean;
  loading: boolean;
  error: string | null;
  /** The query the rows belong to (JSON), so callers can tell stale rows. */
  key: string;
}

export function useRolloutPage(experimentId: string, query: PageQuery | null, reload: number) {
  const [page, setPage] = useState<Page>({ rows: [], more: false, loading: query !== null, error: null, key: '' });
  const key = query ? JSON.stringify(query) : '';
  const current = useRef<AbortController | null>(null);

  useEffect(() => {
    if (!query) return;
    current.current?.abort();
    const c = new AbortController();
    current.current = c;
    setPage((p) => ({ ...p, loading: true, error: null }));
    api
      .rollouts(experimentId, { ...query, ...previewQuery(), q: query.q || undefined, limit: PAGE }, c.signal)
      .then((r) => !c.signal.aborted && setPage({ rows: r.rollouts, more: r.more, loading: false, error: null, key }))
      .catch((e: Error) => !c.signal.aborted && setPage((p) => ({ ...p, loading: false, error: e.message })));
    return () => c.abort();
    // key stands for query.
  }, [experimentId, key, reload]);

  const loadMore = useCallback(() => {
    if (!query || page.loading || !page.more) return;
    const c = new AbortController();
    current.current = c;
    setPage((p) => ({ ...p, loading: true }));
    api
      .rollouts(experimentId, { ...query, ...previewQuery(), q: query.q || undefined, offset: page.rows.length, limit: PAGE }, c.signal)
      .then(
        (r) =>
          !c.signal.aborted &&
          setPage((p) => {
            const have = new Set(p.rows.map((x) => x.id));
            return { ...p, rows: [...p.rows, ...r.rollouts.filter((x) => !have.has(x.id))], more: r.more, loading: false };
          }),
      )
      .catch((e: Error) => !c.signal.aborted && setPage((p) => ({ ...p, loading: false, error: e.message })));
  }, [experimentId, key, page.loading, page.more, page.rows.length]);

  /** Live rollouts that belong at the end of this page (the caller checked they match). */
  const append = useCallback((rs: Rollout[]) => {
    setPage((p) => {
      const have = new Set(p.rows.map((x) => x.id));
      const add = rs.filter((x) => !have.has(x.id));
      return add.length ? { ...p, rows: [...p.rows, ...add] } : p;
    });
  }, []);

  return { page, stale: page.key !== key, loadMore, append };
}
