// What a missing page, or one this account may not see, looks like: the
// server answers both the same way, so say so, name the account, and offer
// to sign in as someone else (the labmate who shared the link may have
// added another of your addresses).
import { api } from '../api';
import { currentUser } from '../lib/session';

export function NotFound({ what = 'Page', detail }: { what?: string; detail?: preact.ComponentChildren }) {
  const me = currentUser();
  async function switchAccount() {
    await api.signOut().catch(() => undefined);
    // A full load: every page's state belonged to the other account.
    window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
  }
  return (
    <div class="page">
      <div class="exp-missing" data-testid="not-found">
        <h1>{what} not found</h1>
        <p class="muted">
          {detail ?? 'There is nothing here'} — or it is in a project this account is not a member of
          {me && (
            <>
              {' '}
              (signed in as <strong data-testid="not-found-email">{me.email}</strong>)
            </>
          )}
          .
        </p>
        <p>
          <button data-testid="switch-account" onClick={() => void switchAccount()}>
            Sign in as someone else
          </button>{' '}
          <a href="/">Back to experiments</a>
        </p>
      </div>
    </div>
  );
}
