// The experiment list: search, sort and paging run on the server and live in
// the URL, so a view can be shared and survives a reload.
import { visibleText } from '../lib/text';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, num, type ExperimentSummary, type Status } from '../api';
import { navigate, setQuery, useLocation } from '../router';
import { absoluteTime, formatNumber, formatStep, relativeTime } from '../lib/format';
import { isLive } from './liveness';
import { useNow } from './useNow';
import './experiments.css';
import { Labels } from '../lib/Labels';
import { Name } from '../lib/Name';
import { canEdit, projectLabel, projectOf, useProjects } from '../lib/projects';
import { currentUser } from '../lib/session';

const PAGE_SIZE = 50;
const STATUSES: Status[] = ['active', 'complete', 'failed', 'crashed'];

/** "a, b ,c" -> ["a", "b", "c"]. */
const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** How long a run ran: to its last write when it ended, to now while active. */
function duration(e: ExperimentSummary, now: number): string {
  const end = e.status === 'active' ? now : Date.parse(e.updatedAt);
  const s = Math.max(0, Math.round((end - Date.parse(e.createdAt)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
const REFRESH_MS = 10_000;
type SortField = 'name' | 'created' | 'updated' | 'latestStep';
const SORTS: SortField[] = ['name', 'created', 'updated', 'latestStep'];

// Names read best A→Z; times and steps newest/largest first.
const defaultOrder = (f: SortField): 'asc' | 'desc' => (f === 'name' ? 'asc' : 'desc');

export function Experiments() {
  const loc = useLocation();
  const q = loc.query.get('q') ?? '';
  const sortParam = loc.query.get('sort') as SortField | null;
  const sort: SortField = sortParam && SORTS.includes(sortParam) ? sortParam : 'created';
  const orderParam = loc.query.get('order');
  const order = orderParam === 'asc' || orderParam === 'desc' ? orderParam : defaultOrder(sort);
  const page = Math.max(1, parseInt(loc.query.get('page') ?? '1', 10) || 1);
  const projectParam = loc.query.get('project');
  const project = projectParam && /^\d+$/.test(projectParam) ? Number(projectParam) : undefined;
  const projects = useProjects();
  const statusParam = loc.query.get('status') ?? '';
  const status = (STATUSES as string[]).includes(statusParam) ? (statusParam as Status) : undefined;
  const tag = loc.query.get('tag') ?? '';
  // config=lr=3e-6 conditions and metric columns, comma-separated in the URL as typed.
  const configText = loc.query.get('config') ?? '';
  const colsText = loc.query.get('cols') ?? '';
  const configConds = splitList(configText);
  const cols = splitList(colsText).filter((c) => /^[^/]+\/.+$/.test(c));

  const [search, setSearch] = useState(q);
  const [rows, setRows] = useState<ExperimentSummary[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);
  const now = useNow(15_000);
  const seq = useRef(0);

  useEffect(() => {
    document.title = 'Experiments · expt-logger';
  }, []);

  // Back/forward changes ?q= under us: show it in the box.
  useEffect(() => setSearch(q), [q]);

  // Debounce typing into the URL; the fetch below follows the URL.
  useEffect(() => {
    if (search === q) return;
    const t = setTimeout(() => setQuery({ q: search.trim() ? search : null, page: null }), 200);
    return () => clearTimeout(t);
  }, [search]);

  useEffect(() => {
    const my = ++seq.current;
    api
      .listExperiments({
        q: q || undefined,
        sort,
        order,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        project,
        status,
        tag: tag || undefined,
        config: configConds.length ? configConds : undefined,
        metric: cols.length ? cols : undefined,
      })
      .then(
      (r) => {
        if (my !== seq.current) return; // a newer request has been sent
        // Deleting the last rows of the last page leaves it empty: step back to a page that has rows.
        if (r.experiments.length === 0 && page > 1 && r.total > 0) {
          const lastPage = Math.ceil(r.total / PAGE_SIZE);
          setQuery({ page: lastPage > 1 ? lastPage : null });
          return;
        }
        setRows(r.experiments);
        setTotal(r.total);
        setError('');
        // Forget selections that scrolled off or were deleted elsewhere.
        setSelected((s) => {
          const ids = new Set(r.experiments.map((e) => e.id));
          const kept = [...s].filter((id) => ids.has(id));
          return kept.length === s.size ? s : new Set(kept);
        });
      },
      (e) => {
        if (my === seq.current) setError(e instanceof ApiError ? e.message : 'Could not reach the server.');
      },
    );
  }, [q, sort, order, page, tick, project, status, tag, configText, colsText]);

  // Poll the list only while the tab is visible, and catch up on return.
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      clearInterval(timer);
      timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    };
    const onVis = () => {
      if (document.visibilityState === 'visible') {
        setTick((t) => t + 1);
        start();
      } else clearInterval(timer);
    };
    if (document.visibilityState === 'visible') start();
    document.addEventListener('visibilitychange', onVis);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVis);
    };
  }, []);

  function sortBy(f: SortField) {
    const nextOrder = f === sort ? (order === 'asc' ? 'desc' : 'asc') : defaultOrder(f);
    setQuery({ sort: f === 'created' && nextOrder === 'desc' ? null : f, order: nextOrder === defaultOrder(f) ? null : nextOrder, page: null });
  }

  function toggle(id: string) {
    setConfirmDelete(false);
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  }

  const list = rows ?? [];
  const allSelected = list.length > 0 && list.every((e) => selected.has(e.id));
  const chosen = list.filter((e) => selected.has(e.id)).map((e) => e.id);
  // Delete follows the role: only owners and editors of a run's project may.
  const deletable = (e: ExperimentSummary) => canEdit(projectOf(projects, e.projectId)?.role);
  const mayDelete = list.some(deletable);
  const chosenReadOnly = list.some((e) => selected.has(e.id) && !deletable(e));
  const showProject = project === undefined && (projects?.length ?? 0) > 1;
  const current = projectOf(projects, project);

  async function deleteSelected() {
    setBusy(true);
    try {
      await api.deleteExperiments(chosen);
      setSelected(new Set());
      setConfirmDelete(false);
      setTick((t) => t + 1);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, page * PAGE_SIZE);

  const header = (f: SortField, label: string, cls = '') => (
    <th
      class={`sortable ${cls} ${sort === f ? 'sorted' : ''}`}
      data-testid={`sort-${f}`}
      aria-sort={sort === f ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}
      onClick={() => sortBy(f)}
    >
      {label}
      <span class="sort-arrow">{sort === f ? (order === 'asc' ? '↑' : '↓') : ''}</span>
    </th>
  );

  return (
    <div class="page exps-page">
      <div class="exps-head">
        <h1>
          Experiments {rows !== null && <span class="exps-count">{total.toLocaleString('en-US')}</span>}
          {current && (
            <span class="exps-project" data-testid="exps-project">
              in <a href={`/projects/${current.id}`}>{projectLabel(current, currentUser()?.email)}</a>{' '}
              <span class={`badge role-${current.role}`}>{current.role}</span>
            </span>
          )}
        </h1>
      </div>
      <div class="toolbar exps-toolbar">
        <input
          class="exps-search"
          type="search"
          placeholder="Search by name…"
          data-testid="exp-search"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <select
          data-testid="status-filter"
          aria-label="Status"
          value={status ?? ''}
          onChange={(e) => setQuery({ status: e.currentTarget.value || null, page: null })}
        >
          <option value="">Any status</option>
          {STATUSES.map((x) => (
            <option value={x}>{x}</option>
          ))}
        </select>
        <DeferredInput
          testid="tag-filter"
          placeholder="Tag"
          value={tag}
          onCommit={(v) => setQuery({ tag: v || null, page: null })}
        />
        <DeferredInput
          testid="config-filter"
          placeholder="Config: lr=3e-6, optim.name=adamw"
          value={configText}
          onCommit={(v) => setQuery({ config: v || null, page: null })}
        />
        <DeferredInput
          testid="metric-columns"
          placeholder="Columns: train/loss, eval/acc"
          value={colsText}
          onCommit={(v) => setQuery({ cols: v || null })}
        />
        <span class="spacer" />
        {chosen.length > 0 && <span class="muted">{chosen.length} selected</span>}
        <button
          data-testid="compare-selected"
          disabled={chosen.length < 2}
          title={chosen.length < 2 ? 'Select two or more experiments to compare' : ''}
          onClick={() => navigate(`/compare?ids=${chosen.map(encodeURIComponent).join(',')}`)}
        >
          Compare{chosen.length >= 2 ? ` (${chosen.length})` : ''}
        </button>
        {confirmDelete ? (
          <span class="confirm exps-confirm">
            Delete {chosen.length} experiment{chosen.length === 1 ? '' : 's'} and all their data?{' '}
            <button class="danger" data-testid="delete-confirm" disabled={busy} onClick={deleteSelected}>
              Delete
            </button>{' '}
            <button data-testid="delete-cancel" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </span>
        ) : (
          mayDelete && (
            <button
              class="danger"
              data-testid="delete-selected"
              disabled={chosen.length === 0 || chosenReadOnly}
              title={chosenReadOnly ? 'Some selected runs are in a project where you are a viewer' : ''}
              onClick={() => setConfirmDelete(true)}
            >
              Delete
            </button>
          )
        )}
      </div>

      {error && <p class="error">{error}</p>}

      {rows === null ? (
        <p class="muted">Loading…</p>
      ) : total === 0 && !q && project === undefined && !status && !tag && !configText ? (
        <FirstRun />
      ) : (
        <div class="exps-table-wrap">
          <table class="grid exps-table">
            <thead>
              <tr>
                <th class="col-select">
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allSelected}
                    onChange={() => {
                      setConfirmDelete(false);
                      setSelected(allSelected ? new Set() : new Set(list.map((e) => e.id)));
                    }}
                  />
                </th>
                {header('name', 'Name', 'col-name')}
                {showProject && <th>Project</th>}
                <th>Status</th>
                {header('latestStep', 'Step', 'num')}
                {header('created', 'Created')}
                {header('updated', 'Updated')}
                <th>Duration</th>
                {cols.map((c) => (
                  <th class="num" data-testid="metric-column">
                    {c}
                  </th>
                ))}
                <th>Job</th>
              </tr>
            </thead>
            <tbody>
              {list.length === 0 && (
                <tr>
                  <td colSpan={(showProject ? 9 : 8) + cols.length} class="empty">
                    {q || status || tag || configText
                      ? 'No experiments match these filters.'
                      : 'No runs in this project yet: log one with expt_logger.init(project=…).'}
                  </td>
                </tr>
              )}
              {list.map((e) => (
                <tr key={e.id} data-testid="exp-row" data-id={e.id} class={selected.has(e.id) ? 'selected' : ''}>
                  <td class="col-select">
                    <input
                      type="checkbox"
                      data-testid="exp-select"
                      aria-label={`Select ${visibleText(e.name)}`}
                      checked={selected.has(e.id)}
                      onChange={() => toggle(e.id)}
                    />
                  </td>
                  <td class="exps-name">
                    <a href={`/experiments/${encodeURIComponent(e.id)}`} data-testid="exp-link">
                      <Name text={e.name || e.id} />
                    </a>
                    <Labels tags={e.tags} group={e.group} />
                    {isLive(e, now) && (
                      <span class="badge live" data-testid="live-badge" title="Logged data in the last 2 minutes">
                        <span class="live-dot" />
                        live
                      </span>
                    )}
                  </td>
                  {showProject && (
                    <td class="exps-project-cell" data-testid="exp-project">
                      {projectLabel(projectOf(projects, e.projectId), currentUser()?.email)}
                    </td>
                  )}
                  <td>
                    <span class={`badge ${e.status}`} data-testid="exp-status">
                      {e.status}
                    </span>
                  </td>
                  <td class="num" data-testid="exp-step">
                    {formatStep(e.latestStep)}
                  </td>
                  <td class="nowrap" title={absoluteTime(e.createdAt)}>
                    {relativeTime(e.createdAt, now)}
                  </td>
                  <td class="nowrap muted" title={absoluteTime(e.updatedAt)}>
                    {relativeTime(e.updatedAt, now)}
                  </td>
                  <td class="nowrap muted" data-testid="exp-duration">
                    {duration(e, now)}
                  </td>
                  {cols.map((c) => {
                    const v = e.metrics?.[c];
                    return (
                      <td class="num" data-testid="exp-metric" data-metric={c}>
                        {v === undefined ? <span class="muted">—</span> : formatNumber(num(v))}
                      </td>
                    );
                  })}
                  <td class="mono muted exps-job">{e.jobId ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {total > PAGE_SIZE && (
            <div class="pager">
              <span class="muted">
                {first.toLocaleString('en-US')}–{last.toLocaleString('en-US')} of {total.toLocaleString('en-US')}
              </span>
              <button data-testid="page-prev" disabled={page <= 1} onClick={() => setQuery({ page: page - 1 > 1 ? page - 1 : null })}>
                ← Previous
              </button>
              <button data-testid="page-next" disabled={page >= pages} onClick={() => setQuery({ page: page + 1 })}>
                Next →
              </button>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

function FirstRun() {
  return (
    <div class="first-run">
      <h2>Log your first run</h2>
      <p class="muted">
        Create an <a href="/keys">API key</a>, set <code>EXPT_LOGGER_API_KEY</code> and{' '}
        <code>EXPT_LOGGER_BASE_URL={window.location.origin}</code>, then in Python:
      </p>
      <pre>{`import expt_logger
run = expt_logger.init(name="my-first-run", config={"lr": 3e-6})
expt_logger.log({"train/loss": 0.45, "train/reward": 0.85})
expt_logger.end()`}</pre>
      <p class="muted">The run appears here within seconds.</p>
    </div>
  );
}

/** A text box that applies its value on Enter or when it loses focus, not on every key. */
function DeferredInput(props: { testid: string; placeholder: string; value: string; onCommit: (v: string) => void }) {
  const [v, setV] = useState(props.value);
  useEffect(() => setV(props.value), [props.value]);
  const commit = () => {
    if (v.trim() !== props.value) props.onCommit(v.trim());
  };
  return (
    <input
      class="exps-filter"
      data-testid={props.testid}
      placeholder={props.placeholder}
      aria-label={props.placeholder}
      value={v}
      onInput={(e) => setV(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
      }}
      onBlur={commit}
    />
  );
}
