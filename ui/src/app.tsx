// The app shell: who is signed in, the top bar, and which page to show.
import { useEffect, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler, type User } from './api';
import { match, navigate, useLocation } from './router';
import { SignIn } from './pages/SignIn';
import { Keys } from './pages/Keys';
import { Experiments } from './pages/Experiments';
import { ExperimentPage } from './pages/Experiment';
import { Compare } from './pages/Compare';

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
          <a href="/keys" class={loc.path === '/keys' ? 'active' : ''}>
            API keys
          </a>
        </nav>
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

function NotFound() {
  return (
    <div class="page">
      <h1>Not found</h1>
      <p>
        There is no page here. <a href="/">Back to experiments</a>
      </p>
    </div>
  );
}
