// Who is signed in, for the pages that word things by it (your personal
// project, "signed in as …"). The app shell sets it.
import type { User } from '../api';

let me: User | null = null;

export function setCurrentUser(u: User | null): void {
  me = u;
}

export function currentUser(): User | null {
  return me;
}
