// The test files' view of global-setup's server: inject() works only inside
// a test worker, so this is apart from fixture.ts, which global-setup imports.
import { inject } from 'vitest';
import type { E2E } from './fixture';

export const env = (): E2E => inject('e2e');

/** A JSON request with the API key, as the SDK or a script would make it. */
export async function apiFetch<T>(method: string, p: string, body?: unknown): Promise<T> {
  const e = env();
  const res = await fetch(e.url + p, {
    method,
    headers: { Authorization: `Bearer ${e.apiKey}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
