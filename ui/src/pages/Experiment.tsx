// One experiment: a header that stays current through the live stream, and
// tabs for charts, rollouts and config (the tab lives in ?tab=).
import { ExportMenu } from './ExportMenu';
import { visibleText } from '../lib/text';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Experiment, type Metric } from '../api';
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
import { canEdit, projectLabel, projectOf, useProjects } from '../lib/projects';
import { currentUser } from '../lib/session';
import { NotFound } from './NotFound';

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
  const projects = useProjects();
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
    if (error.status === 404)
      return (
        <NotFound
          what="Experiment"
          detail={
            <>
              No experiment <code>{id}</code> exists
            </>
          }
        />
      );
    return (
      <div class="page">
        <div class="exp-missing">
          <h1>Could not load the experiment</h1>
          <p class="error">{error.message}</p>
        </div>
      </div>
    );
  }
  if (!exp) return <div class="page muted">Loading…</div>;
  const proj = projectOf(projects, exp.projectId);
  const editable = canEdit(proj?.role);

  const live = isLive(exp, now);

  return (
    <div class="page exp-page">
      <div class="exp-crumbs">
        <a href="/">Experiments</a> <span class="muted">/</span>{' '}
        {proj && (
          <>
            <a href={`/?project=${proj.id}`} data-testid="exp-project">
              {projectLabel(proj, currentUser()?.email)}
            </a>{' '}
            <span class={`badge role-${proj.role}`} data-testid="exp-role">
              {proj.role}
            </span>{' '}
            <span class="muted">/</span>
          </>
        )}
      </div>
      <div class="exp-header">
        <NameEditor exp={exp} editable={editable} onSaved={(e) => setExp((old) => ({ ...(old ?? e), ...e }))} />
        <StatusControl exp={exp} editable={editable} onSaved={(e) => setExp((old) => ({ ...(old ?? e), ...e }))} />
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
        <ExportMenu experimentId={exp.id} />
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

function NameEditor({ exp, editable, onSaved }: { exp: Experiment; editable: boolean; onSaved: (e: Experiment) => void }) {
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
        <span
          data-testid="exp-name"
          class="exp-name"
          title={editable ? 'Click to rename' : ''}
          onClick={editable ? start : undefined}
        >
          <Name text={exp.name || exp.id} />
        </span>
        {editable && (
          <button class="link exp-rename" data-testid="exp-rename" aria-label="Rename" title="Rename" onClick={start}>
            ✎
          </button>
        )}
        <LabelsEditor exp={exp} editable={editable} onSaved={onSaved} />
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

function StatusControl({ exp, editable, onSaved }: { exp: Experiment; editable: boolean; onSaved: (e: Experiment) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const next: 'active' | 'complete' = exp.status === 'active' ? 'complete' : 'active';

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
      {editable && (
        <button class="link exp-status-toggle" data-testid="exp-status-toggle" disabled={busy} onClick={flip}>
          {next === 'complete' ? 'Mark complete' : 'Mark active'}
        </button>
      )}
      {error && <span class="error">{error}</span>}
    </span>
  );
}

/** A run's tags and notes, editable by owners and editors of its project. */
function LabelsEditor({ exp, editable, onSaved }: { exp: Experiment; editable: boolean; onSaved: (e: Experiment) => void }) {
  const [editing, setEditing] = useState(false);
  const [tags, setTags] = useState('');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  function start() {
    setTags(exp.tags.join(', '));
    setNotes(exp.notes);
    setError('');
    setEditing(true);
  }

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      const list = tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      onSaved(await api.updateExperiment(exp.id, { tags: list, notes }));
      setEditing(false);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (!editing) {
    return (
      <>
        <Labels tags={exp.tags} group={exp.group} />
        {exp.notes && (
          <span class="exp-notes" data-testid="exp-notes">
            {visibleText(exp.notes)}
          </span>
        )}
        {editable && (
          <button class="link exp-labels-edit" data-testid="exp-labels-edit" title="Edit tags and notes" onClick={start}>
            {exp.tags.length || exp.notes ? 'edit tags' : '+ tags, notes'}
          </button>
        )}
      </>
    );
  }
  return (
    <form class="exp-labels-form" data-testid="exp-labels-form" onSubmit={save}>
      <input
        data-testid="exp-tags-input"
        placeholder="Tags, comma-separated"
        value={tags}
        disabled={busy}
        onInput={(e) => setTags(e.currentTarget.value)}
      />
      <textarea
        data-testid="exp-notes-input"
        placeholder="Notes"
        rows={2}
        value={notes}
        disabled={busy}
        onInput={(e) => setNotes(e.currentTarget.value)}
      />
      <button class="primary" type="submit" data-testid="exp-labels-save" disabled={busy}>
        Save
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      {error && <span class="error">{error}</span>}
    </form>
  );
}
