// Sign in and sign up: one centred card; the server's error text is shown as is
// (it names the field, and a throttled sign-in says when to retry).
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type User } from '../api';
import { useLocation } from '../router';
import './auth.css';

export function SignIn({ mode, onSignedIn }: { mode: 'in' | 'up'; onSignedIn: (u: User) => void }) {
  const loc = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = mode === 'up' ? 'Sign up · expt-logger' : 'Sign in · expt-logger';
    setError('');
  }, [mode]);

  const next = loc.query.get('next');
  const keep = next ? `?next=${encodeURIComponent(next)}` : '';

  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    if (mode === 'up' && password.length < 8) {
      setError('Password must be at least 8 characters.');
      return;
    }
    setBusy(true);
    try {
      const r = mode === 'up' ? await api.signUp(email.trim(), password, name.trim() || undefined) : await api.signIn(email.trim(), password);
      onSignedIn(r.user);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server. Is it running?');
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="auth">
      <form class="auth-card" onSubmit={submit} noValidate>
        <div class="auth-brand">
          <span class="auth-logo" aria-hidden="true" />
          expt-logger
        </div>
        <p class="auth-tagline">Self-hosted experiment tracking for RL training of LLMs: metrics, rollouts and configs in one place.</p>
        <h1>{mode === 'up' ? 'Create your account' : 'Sign in'}</h1>
        {mode === 'up' && (
          <label>
            Name <span class="muted">(optional)</span>
            <input name="name" autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Email
          <input
            name="email"
            type="email"
            autocomplete="email"
            required
            autofocus
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete={mode === 'up' ? 'new-password' : 'current-password'}
            required
            minLength={mode === 'up' ? 8 : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          {mode === 'up' && <span class="auth-hint">At least 8 characters.</span>}
        </label>
        {error && (
          <div class="auth-error" role="alert" data-testid="auth-error">
            {error}
          </div>
        )}
        <button class="primary" type="submit" data-testid="auth-submit" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'up' ? 'Create account' : 'Sign in'}
        </button>
        <p class="auth-switch">
          {mode === 'up' ? 'Already have an account? ' : 'New here? '}
          <a href={(mode === 'up' ? '/sign-in' : '/sign-up') + keep} data-testid="auth-switch">
            {mode === 'up' ? 'Sign in' : 'Create an account'}
          </a>
        </p>
      </form>
    </div>
  );
}
