// Projects: the ones you are a member of, with your role, and a form to
// make a shared one. Opening one shows its members.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { navigate } from '../router';
import { projectLabel, refreshProjects, useProjects } from '../lib/projects';
import { currentUser } from '../lib/session';
import { relativeTime } from '../lib/format';
import './projects.css';

export function Projects() {
  const projects = useProjects();
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Projects · expt-logger';
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const p = await api.createProject(name.trim());
      refreshProjects();
      navigate(`/projects/${p.id}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="page projects-page">
      <h1>Projects</h1>
      <p class="muted">
        Every run belongs to a project. Log into one with <code>expt_logger.init(project="name")</code>; add labmates on its page as
        owners, editors (log, edit and delete runs) or viewers (read).
      </p>
      <form class="toolbar" onSubmit={create}>
        <input
          data-testid="project-name"
          placeholder="New project, e.g. math-grpo"
          value={name}
          maxLength={100}
          pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
          title="Letters, digits, '.', '_' and '-', starting with a letter or digit"
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <button class="primary" type="submit" data-testid="project-create" disabled={busy || !name.trim()}>
          Create project
        </button>
      </form>
      {error && <p class="error">{error}</p>}
      {projects === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <table class="grid projects-table">
          <thead>
            <tr>
              <th>Project</th>
              <th>Your role</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.id} data-testid="project-row" data-name={p.name}>
                <td>
                  <a href={`/projects/${p.id}`}>{projectLabel(p, currentUser()?.email)}</a>
                </td>
                <td>
                  <span class={`badge role-${p.role}`}>{p.role}</span>
                </td>
                <td>{relativeTime(p.createdAt)}</td>
                <td>
                  <a href={`/?project=${p.id}`}>Runs</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
