// Placeholder until its page lands.
export function SignIn(_: { mode: 'in' | 'up'; onSignedIn: (u: import('../api').User) => void }) {
  return <div class="page">SignIn</div>;
}
