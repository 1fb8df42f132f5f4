// One project: its members and their roles. Owners add people by email
// (someone without an account is invited and joins by signing up with that
// email), change roles, remove members and delete the project; everyone
// else sees the list.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Member, type Project, type Role } from '../api';
import { navigate } from '../router';
import { projectLabel, refreshProjects } from '../lib/projects';
import { currentUser } from '../lib/session';
import { NotFound } from './NotFound';
import './projects.css';

const ROLES: Role[] = ['owner', 'editor', 'viewer'];

export function ProjectPage({ id }: { id: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const [confirmDelete, setConfirmDelete] = useState(false);

  const fail = (err: unknown) => setError(err instanceof ApiError ? err.message : String(err));
  const load = () =>
    Promise.all([api.project(id), api.members(id)]).then(
      ([p, m]) => {
        setProject(p);
        setMembers(m.members);
      },
      (err) => (err instanceof ApiError && err.status === 404 ? setMissing(true) : fail(err)),
    );

  useEffect(() => {
    void load();
  }, [id]);
  useEffect(() => {
    if (project) document.title = `${projectLabel(project, currentUser()?.email)} · expt-logger`;
  }, [project?.name]);

  if (missing) return <NotFound what="Project" />;
  if (!project || !members) return <div class="page muted">{error || 'Loading…'}</div>;
  const owner = project.role === 'owner';

  async function act(f: () => Promise<unknown>) {
    setError('');
    try {
      await f();
      refreshProjects();
      await load();
    } catch (err) {
      fail(err);
    }
  }

  return (
    <div class="page project-page">
      <div class="exp-crumbs">
        <a href="/projects">Projects</a> <span class="muted">/</span>
      </div>
      <h1>
        {projectLabel(project, currentUser()?.email)}{' '}
        <span class={`badge role-${project.role}`} data-testid="project-role">
          {project.role}
        </span>
      </h1>
      <p>
        <a href={`/?project=${project.id}`} data-testid="project-runs">
          Runs in this project
        </a>
      </p>
      {error && <p class="error">{error}</p>}

      <h2>Members</h2>
      {owner && (
        <form
          class="toolbar"
          data-testid="member-add-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              await api.addMember(project.id, email.trim(), role);
              setEmail('');
            });
          }}
        >
          <input
            type="email"
            data-testid="member-email"
            placeholder="Email of a labmate"
            value={email}
            required
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          <select data-testid="member-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
          <button class="primary" type="submit" data-testid="member-add">
            Add member
          </button>
        </form>
      )}
      <table class="grid members-table">
        <thead>
          <tr>
            <th>Email</th>
            <th>Name</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.userId} data-testid="member-row" data-email={m.email}>
              <td>
                {m.email}
                {m.invited && (
                  <span class="badge invited" title="Has not signed up yet: they join by signing up with this email">
                    invited
                  </span>
                )}
              </td>
              <td>{m.name}</td>
              <td>
                {owner ? (
                  <select
                    data-testid="member-role-select"
                    value={m.role}
                    onChange={(e) => void act(() => api.setRole(project.id, m.userId, e.currentTarget.value as Role))}
                  >
                    {ROLES.map((r) => (
                      <option value={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  <span class={`badge role-${m.role}`}>{m.role}</span>
                )}
              </td>
              <td>
                {owner && (
                  <button class="danger" data-testid="member-remove" onClick={() => void act(() => api.removeMember(project.id, m.userId))}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      {owner && !project.personal && (
        <div class="project-danger">
          {confirmDelete ? (
            <span class="confirm">
              Delete {project.name} with all its runs?{' '}
              <button
                class="danger"
                data-testid="project-delete-confirm"
                onClick={() =>
                  void api.deleteProject(project.id).then(() => {
                    refreshProjects();
                    navigate('/projects');
                  }, fail)
                }
              >
                Delete
              </button>{' '}
              <button onClick={() => setConfirmDelete(false)}>Cancel</button>
            </span>
          ) : (
            <button class="danger" data-testid="project-delete" onClick={() => setConfirmDelete(true)}>
              Delete project
            </button>
          )}
        </div>
      )}
    </div>
  );
}
