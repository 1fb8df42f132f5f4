// The app shell: who is signed in, the top bar, and which page to show.
import { useEffect, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler, type User } from './api';
import { match, navigate, useLocation } from './router';
import { SignIn } from './pages/SignIn';
import { Keys } from './pages/Keys';
import { Experiments } from './pages/Experiments';
import { ExperimentPage } from './pages/Experiment';
import { Compare } from './pages/Compare';
import { Projects } from './pages/Projects';
import { ProjectPage } from './pages/Project';
import { NotFound } from './pages/NotFound';
import { projectLabel, useProjects } from './lib/projects';
import { setCurrentUser } from './lib/session';

export function App() {
  const loc = useLocation();
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    api.me().then(
      (r) => setUser(r.user),
      () => setUser(null),
    );
    setUnauthorizedHandler(() => setUser(null));
    return () => setUnauthorizedHandler(null);
  }, []);

  const authPage = loc.path === '/sign-in' || loc.path === '/sign-up';
  useEffect(() => {
    if (user === null && !authPage) {
      navigate(`/sign-in?next=${encodeURIComponent(loc.path + window.location.search)}`, { replace: true });
    }
  }, [user, authPage, loc.path]);

  setCurrentUser(user ?? null);
  if (user === undefined) return <div class="boot" />;

  if (authPage || user === null) {
    return (
      <SignIn
        mode={loc.path === '/sign-up' ? 'up' : 'in'}
        onSignedIn={(u) => {
          setUser(u);
          const next = loc.query.get('next');
          // Only same-site paths: a crafted ?next= must not send the user elsewhere.
          navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
        }}
      />
    );
  }

  let page;
  let m: Record<string, string> | null;
  if (loc.path === '/' || loc.path === '/experiments') page = <Experiments />;
  else if (loc.path === '/keys') page = <Keys />;
  else if (loc.path === '/projects') page = <Projects />;
  else if ((m = match('/projects/:id', loc.path)) && /^\d+$/.test(m.id)) page = <ProjectPage id={Number(m.id)} />;
  else if (loc.path === '/compare') page = <Compare ids={(loc.query.get('ids') ?? '').split(',').filter(Boolean)} />;
  else if ((m = match('/experiments/:id', loc.path))) page = <ExperimentPage id={m.id} />;
  else page = <NotFound />;

  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="/">
          expt-logger
        </a>
        <nav>
          <a href="/" class={loc.path === '/' || loc.path.startsWith('/experiments') ? 'active' : ''}>
            Experiments
          </a>
          <a href="/projects" class={loc.path.startsWith('/projects') ? 'active' : ''}>
            Projects
          </a>
          <a href="/keys" class={loc.path === '/keys' ? 'active' : ''}>
            API keys
          </a>
        </nav>
        <ProjectSwitcher current={loc.path === '/' || loc.path === '/experiments' ? loc.query.get('project') : null} me={user.email} />
        <span class="spacer" />
        <span class="who" data-testid="user-email">
          {user.email}
        </span>
        <button
          class="link"
          data-testid="sign-out"
          onClick={async () => {
            await api.signOut().catch(() => undefined);
            setUser(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>{page}</main>
    </div>
  );
}

/** Which project the experiment list shows: all of the caller's, or one. */
function ProjectSwitcher({ current, me }: { current: string | null; me: string }) {
  const projects = useProjects();
  if (!projects || projects.length < 2) return null;
  return (
    <select
      class="project-switcher"
      data-testid="project-switcher"
      aria-label="Project"
      value={current ?? ''}
      onChange={(e) => {
        const v = e.currentTarget.value;
        navigate(v ? `/?project=${v}` : '/');
      }}
    >
      <option value="">All projects</option>
      {projects.map((p) => (
        <option value={String(p.id)}>{projectLabel(p, me)}</option>
      ))}
    </select>
  );
}
