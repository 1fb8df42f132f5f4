// One experiment: a header that stays current through the live stream, and
// tabs for charts, rollouts and config (the tab lives in ?tab=).
import { visibleText } from '../lib/text';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Experiment, type Metric, type Status } from '../api';
import { ChartsPanel } from '../charts/ChartsPanel';
import { RolloutsPanel } from '../rollouts/RolloutsPanel';
import { useLive } from '../lib/live';
import { absoluteTime, formatStep, relativeTime } from '../lib/format';
import { setQuery, useLocation } from '../router';
import { ConfigTable } from './ConfigTable';
import { isLive } from './liveness';
import { useNow } from './useNow';
import './experiment.css';
import { Labels } from '../lib/Labels';
import { Name } from '../lib/Name';

type Tab = 'charts' | 'rollouts' | 'config';
const TABS: { id: Tab; label: string }[] = [
  { id: 'charts', label: 'Charts' },
  { id: 'rollouts', label: 'Rollouts' },
  { id: 'config', label: 'Config' },
];

export function ExperimentPage({ id }: { id: string }) {
  const loc = useLocation();
  const t = loc.query.get('tab');
  const tab: Tab = t === 'rollouts' || t === 'config' ? t : 'charts';
  const [exp, setExp] = useState<Experiment | null>(null);
  const [metrics, setMetrics] = useState<Metric[]>([]);
  const [error, setError] = useState<{ status: number; message: string } | null>(null);
  // Charts stay mounted once opened: coming back from rollouts must not refetch every history.
  const [chartsOpened, setChartsOpened] = useState(tab === 'charts');
  const now = useNow(15_000);

  useEffect(() => {
    setExp(null);
    setError(null);
    setMetrics([]);
    api.details(id).then(
      (d) => {
        const { metrics: ms, ...e } = d;
        setExp(e);
        setMetrics(ms);
      },
      (e) => setError(e instanceof ApiError ? { status: e.status, message: e.message } : { status: 0, message: String(e) }),
    );
  }, [id]);

  useEffect(() => {
    if (tab === 'charts') setChartsOpened(true);
  }, [tab]);

  useEffect(() => {
    document.title = exp ? `${visibleText(exp.name || exp.id)} · expt-logger` : 'expt-logger';
  }, [exp?.name]);

  useLive(
    id,
    {
      experiment: (e) => setExp((old) => (old ? { ...old, ...e } : e)),
      scalars: (pts) =>
        setExp((old) => {
          if (!old) return old;
          let step = old.latestStep ?? -1;
          for (const p of pts) if (p.step > step) step = p.step;
          // Re-render only when the step moves (batches can arrive many times a second);
          // a new step also means the run is alive now, before its experiment event arrives.
          if (step === (old.latestStep ?? -1)) return old;
          return { ...old, latestStep: step, updatedAt: new Date().toISOString() };
        }),
      reconnected: () => void api.getExperiment(id).then(setExp, () => undefined),
    },
    exp !== null,
  );

  if (error) {
    return (
      <div class="page">
        <div class="exp-missing">
          {error.status === 404 ? (
            <>
              <h1>Experiment not found (or not yours)</h1>
              <p class="muted">
                No experiment with id <code>{id}</code> is visible to this account. <a href="/">Back to experiments</a>
              </p>
            </>
          ) : (
            <>
              <h1>Could not load the experiment</h1>
              <p class="error">{error.message}</p>
            </>
          )}
        </div>
      </div>
    );
  }
  if (!exp) return <div class="page muted">Loading…</div>;

  const live = isLive(exp, now);

  return (
    <div class="page exp-page">
      <div class="exp-crumbs">
        <a href="/">Experiments</a> <span class="muted">/</span>
      </div>
      <div class="exp-header">
        <NameEditor exp={exp} onSaved={(e) => setExp((old) => ({ ...(old ?? e), ...e }))} />
        <StatusControl exp={exp} onSaved={(e) => setExp((old) => ({ ...(old ?? e), ...e }))} />
        {live && (
          <span class="badge live" data-testid="live-badge" title="Logged data in the last 2 minutes">
            <span class="live-dot" />
            live
          </span>
        )}
      </div>
      <div class="exp-meta">
        <span title={absoluteTime(exp.createdAt)}>
          <span class="muted">Created</span> {relativeTime(exp.createdAt, now)}
        </span>
        <span title={absoluteTime(exp.updatedAt)}>
          <span class="muted">Updated</span> {relativeTime(exp.updatedAt, now)}
        </span>
        <span>
          <span class="muted">Step</span> <span data-testid="exp-latest-step">{exp.latestStep === null ? '—' : formatStep(exp.latestStep)}</span>
        </span>
        {exp.jobId && (
          <span>
            <span class="muted">Job</span> <code>{exp.jobId}</code>
          </span>
        )}
        <span>
          <span class="muted">ID</span> <code class="exp-id">{exp.id}</code>
        </span>
      </div>

      <div class="tabs" role="tablist">
        {TABS.map((x) => (
          <button
            key={x.id}
            role="tab"
            aria-selected={tab === x.id}
            class={tab === x.id ? 'active' : ''}
            data-testid={`tab-${x.id}`}
            onClick={() => setQuery({ tab: x.id === 'charts' ? null : x.id }, { replace: false })}
          >
            {x.label}
          </button>
        ))}
      </div>

      {chartsOpened && (
        <div hidden={tab !== 'charts'}>
          <ChartsPanel experiment={exp} metrics={metrics} />
        </div>
      )}
      {tab === 'rollouts' && <RolloutsPanel experimentId={exp.id} />}
      {tab === 'config' && <ConfigTable config={exp.config} />}
    </div>
  );
}

function NameEditor({ exp, onSaved }: { exp: Experiment; onSaved: (e: Experiment) => void }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(exp.name);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // Escape unmounts the input, which can fire blur; that blur must not save.
  const cancelled = useRef(false);

  useEffect(() => {
    if (editing) {
      input.current?.focus();
      input.current?.select();
    }
  }, [editing]);

  function start() {
    cancelled.current = false;
    setValue(exp.name);
    setError('');
    setEditing(true);
  }

  function cancel() {
    cancelled.current = true;
    setEditing(false);
    setError('');
  }

  async function save() {
    if (cancelled.current || busy) return;
    const name = value.trim();
    if (name === exp.name) {
      setEditing(false);
      return;
    }
    if (!name) {
      setError('The name cannot be empty.');
      return;
    }
    setBusy(true);
    try {
      const e = await api.updateExperiment(exp.id, { name });
      onSaved(e);
      setEditing(false);
      setError('');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (!editing) {
    return (
      <h1 class="exp-title">
        <span data-testid="exp-name" class="exp-name" title="Click to rename" onClick={start}>
          <Name text={exp.name || exp.id} />
        </span>
        <button class="link exp-rename" data-testid="exp-rename" aria-label="Rename" title="Rename" onClick={start}>
          ✎
        </button>
        <Labels tags={exp.tags} group={exp.group} />
        {exp.notes && (
          <span class="exp-notes" data-testid="exp-notes">
            {visibleText(exp.notes)}
          </span>
        )}
      </h1>
    );
  }
  return (
    <div class="exp-title-edit">
      <input
        ref={input}
        data-testid="exp-name-input"
        class="exp-name-input"
        value={value}
        disabled={busy}
        maxLength={500}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            cancel();
          }
        }}
        onBlur={() => void save()}
      />
      {error ? (
        <span class="error exp-name-error" data-testid="exp-name-error">
          {error}
        </span>
      ) : (
        <span class="muted exp-name-hint">Enter to save, Esc to cancel</span>
      )}
    </div>
  );
}

function StatusControl({ exp, onSaved }: { exp: Experiment; onSaved: (e: Experiment) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const next: Status = exp.status === 'active' ? 'complete' : 'active';

  async function flip() {
    setBusy(true);
    setError('');
    try {
      onSaved(await api.updateExperiment(exp.id, { status: next }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <span class="exp-status-wrap">
      <span class={`badge ${exp.status}`} data-testid="exp-status">
        {exp.status}
      </span>
      <button class="link exp-status-toggle" data-testid="exp-status-toggle" disabled={busy} onClick={flip}>
        {next === 'complete' ? 'Mark complete' : 'Mark active'}
      </button>
      {error && <span class="error">{error}</span>}
    </span>
  );
}
