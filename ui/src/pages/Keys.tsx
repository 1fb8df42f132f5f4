// API keys: the SDK authenticates with one. A new key is shown exactly once,
// ready to paste into a shell, next to the two lines of Python that use it.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Access, type APIKey } from '../api';
import { projectLabel, useProjects } from '../lib/projects';
import { currentUser } from '../lib/session';
import { absoluteTime, relativeTime } from '../lib/format';
import './keys.css';
import { Name } from '../lib/Name';

export function Keys() {
  const [keys, setKeys] = useState<APIKey[] | null>(null);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ key: string; name: string; project?: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [project, setProject] = useState('');
  const [access, setAccess] = useState<Access>('full');
  const projects = useProjects();

  const load = () =>
    api.listKeys().then(
      (r) => setKeys(r.keys),
      (e) => setError(e instanceof ApiError ? e.message : String(e)),
    );

  useEffect(() => {
    document.title = 'API keys · expt-logger';
    void load();
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const k = await api.createKey(name.trim() || 'default', { project: project || undefined, access });
      setCreated({ key: k.key, name: k.name, project: k.project?.name });
      setName('');
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(id: string) {
    setError('');
    try {
      await api.revokeKey(id);
      setConfirming(null);
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  return (
    <div class="page keys-page">
      <h1>API keys</h1>
      <p class="muted keys-lead">
        The Python SDK sends one of these keys with every request. A full key can do everything you can; give a training job a
        key limited to its project and to writing, which can log runs but read and delete nothing. Keep keys secret; revoke one
        if it leaks.
      </p>

      <form class="toolbar keys-create" onSubmit={create}>
        <input
          data-testid="key-name"
          placeholder="Key name, e.g. cluster-a"
          value={name}
          maxLength={100}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <select data-testid="key-project" aria-label="Project" value={project} onChange={(e) => setProject(e.currentTarget.value)}>
          <option value="">All my projects</option>
          {(projects ?? []).map((p) => (
            <option value={p.name}>{projectLabel(p, currentUser()?.email)}</option>
          ))}
        </select>
        <select data-testid="key-access" aria-label="Access" value={access} onChange={(e) => setAccess(e.currentTarget.value as Access)}>
          <option value="full">Full access</option>
          <option value="write">Write only (log runs)</option>
          <option value="read">Read only</option>
        </select>
        <button class="primary" type="submit" data-testid="key-create" disabled={busy}>
          Create key
        </button>
      </form>

      {error && <p class="error">{error}</p>}

      {created && <NewKey created={created} onDone={() => setCreated(null)} />}

      {keys === null ? (
        <p class="muted">Loading…</p>
      ) : keys.length === 0 ? (
        <div class="empty keys-empty">No keys yet. Create one to start logging from Python.</div>
      ) : (
        <table class="grid keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Scope</th>
              <th>Access</th>
              <th>Created</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-testid="key-row" data-id={k.id}>
                <td class="keys-name">
                  <Name text={k.name} />
                </td>
                <td>
                  <code class="keys-prefix">{k.prefix}…</code>
                </td>
                <td data-testid="key-scope">{k.project ? k.project.name : <span class="muted">all projects</span>}</td>
                <td data-testid="key-access-cell">
                  <span class={`badge access-${k.access}`}>{k.access}</span>
                </td>
                <td title={absoluteTime(k.createdAt)}>{relativeTime(k.createdAt)}</td>
                <td title={k.lastUsedAt ? absoluteTime(k.lastUsedAt) : ''}>
                  {k.lastUsedAt ? relativeTime(k.lastUsedAt) : <span class="muted">never</span>}
                </td>
                <td class="keys-actions">
                  {confirming === k.id ? (
                    <span class="confirm">
                      Revoke?{' '}
                      <button class="danger" data-testid="key-revoke-yes" onClick={() => revoke(k.id)}>
                        Yes
                      </button>{' '}
                      <button data-testid="key-revoke-no" onClick={() => setConfirming(null)}>
                        No
                      </button>
                    </span>
                  ) : (
                    <button class="danger" data-testid="key-revoke" onClick={() => setConfirming(k.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function NewKey({ created, onDone }: { created: { key: string; name: string; project?: string }; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const line = `export EXPT_LOGGER_API_KEY=${created.key}`;
  const base = `export EXPT_LOGGER_BASE_URL=${window.location.origin}`;

  async function copy() {
    try {
      await navigator.clipboard.writeText(line);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // Clipboard access needs a secure context; the text stays selectable.
      setCopied(false);
    }
  }

  return (
    <div class="new-key" data-testid="new-key">
      <div class="new-key-head">
        <strong>Key “{created.name}” created.</strong> Copy it now: it will not be shown again.
        <button class="link new-key-close" onClick={onDone} aria-label="Dismiss">
          Dismiss
        </button>
      </div>
      <div class="new-key-line">
        <code>{line}</code>
        <button data-testid="copy-key" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <div class="new-key-hint">
        <div class="muted">Then, in your shell and Python:</div>
        <pre>
          {`${base}
${line}

import expt_logger
run = expt_logger.init(name="my-run", config={"lr": 1e-5}${created.project ? `, project="${created.project}"` : ''})
run.log({"train/loss": 0.42}, step=1)
run.end()`}
        </pre>
      </div>
    </div>
  );
}
