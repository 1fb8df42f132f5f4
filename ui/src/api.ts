// Typed client for the expt HTTP API (api/openapi.yaml is the contract).
// The browser authenticates with the HttpOnly session cookie; every write
// sends a JSON content type, which the server's CSRF check requires.

/** A double from the wire: non-finite values arrive as strings. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function num(v: WireNumber | null | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return NaN;
}

export type Status = 'active' | 'complete';

export interface User {
  id: number;
  email: string;
  name: string;
  createdAt: string;
}

export interface APIKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface Experiment {
  id: string;
  name: string;
  config: Record<string, unknown>;
  status: Status;
  jobId?: string;
  createdAt: string;
  updatedAt: string;
  latestStep: number | null;
  url: string;
}

export interface Metric {
  mode: string;
  name: string;
  count: number;
  lastStep: number;
}

export interface Series {
  mode: string;
  name: string;
  total: number;
  downsampled: boolean;
  step: number[];
  value: number[];
  min: number[];
  minStep: number[];
  max: number[];
  maxStep: number[];
  ts: number[];
}

export interface Message {
  role: string;
  content?: string | null;
  [extra: string]: unknown;
}

export interface Reward {
  name: string;
  value: number;
}

export interface Rollout {
  id: number;
  clientId?: string;
  step: number;
  mode: string;
  promptText: string;
  prompt?: Message;
  messages: Message[];
  rewards: Reward[];
  ts: number;
  createdAt: string;
}

export interface RewardStats {
  name: string;
  count: number;
  nans: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface Group {
  step: number;
  mode: string;
  promptText: string;
  count: number;
  rewards: RewardStats[];
}

export interface StepCount {
  mode: string;
  step: number;
  count: number;
}

export interface StepRewards {
  step: number;
  mode: string;
  count: number;
  rewards: RewardStats[];
}

export interface ScalarEvent {
  step: number;
  mode: string;
  name: string;
  value: number;
  ts: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called on any 401, so the app can send the user to sign in. */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(f: (() => void) | null): void {
  onUnauthorized = f;
}

type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export function qs(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, String(x)));
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', signal, headers: {} };
  if (body !== undefined) init.body = JSON.stringify(body);
  // The server's CSRF check wants a JSON content type on every cookie-authenticated
  // write, bodiless DELETEs included (a cross-site form cannot send one).
  if (method !== 'GET') (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  const res = await fetch(path, init);
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && onUnauthorized && !path.startsWith('/api/auth/')) onUnauthorized();
    const msg =
      data && typeof data === 'object' && 'error' in data ? String((data as { error: unknown }).error) : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return data as T;
}

const get = <T>(path: string, q?: Query, signal?: AbortSignal) => request<T>('GET', path + qs(q), undefined, signal);

function numbers(a: WireNumber[]): number[] {
  // Most series carry only plain numbers; skip the copy when they do.
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'number') return a.map(num);
  return a as number[];
}

function fixStats(s: RewardStats): RewardStats {
  const w = s as unknown as Record<string, WireNumber>;
  return { ...s, mean: num(w.mean), std: num(w.std), min: num(w.min), max: num(w.max) };
}

export function fixRollout(r: Rollout): Rollout {
  return { ...r, ts: num(r.ts as WireNumber), rewards: r.rewards.map((x) => ({ name: x.name, value: num(x.value as WireNumber) })) };
}

const exp = (id: string) => `/api/experiments/${encodeURIComponent(id)}`;

export const api = {
  signUp: (email: string, password: string, name?: string) =>
    request<{ user: User }>('POST', '/api/auth/sign-up/email', { email, password, ...(name ? { name } : {}) }),
  signIn: (email: string, password: string) => request<{ user: User }>('POST', '/api/auth/sign-in/email', { email, password }),
  signOut: () => request<{ success: boolean }>('POST', '/api/auth/sign-out', {}),
  me: () => get<{ user: User }>('/api/me'),

  listKeys: () => get<{ keys: APIKey[] }>('/api/api-keys'),
  createKey: (name: string) => request<APIKey & { key: string }>('POST', '/api/api-keys', { name }),
  revokeKey: (id: string) => request<{ success: boolean }>('DELETE', `/api/api-keys/${encodeURIComponent(id)}`),

  listExperiments: (q: { q?: string; status?: Status; sort?: string; order?: 'asc' | 'desc'; offset?: number; limit?: number }) =>
    get<{ experiments: Experiment[]; total: number }>('/api/experiments', q),
  getExperiment: (id: string) => get<Experiment>(exp(id)),
  details: (id: string) => get<Experiment & { metrics: Metric[] }>(`${exp(id)}/details`),
  updateExperiment: (id: string, u: { name?: string; status?: Status; config?: Record<string, unknown> }) =>
    request<Experiment>('PUT', exp(id), u),
  deleteExperiments: (ids: string[]) => request<{ deletedCount: number }>('DELETE', '/api/experiments', { ids }),

  metrics: (id: string) => get<{ metrics: Metric[] }>(`${exp(id)}/metrics`),
  async series(
    id: string,
    q: { mode: string; name: string; maxPoints?: number; from?: number; to?: number },
    signal?: AbortSignal,
  ): Promise<Series> {
    const s = await get<Series>(`${exp(id)}/series`, q, signal);
    const w = s as unknown as Record<string, WireNumber[]>;
    return { ...s, value: numbers(w.value), min: numbers(w.min), max: numbers(w.max), ts: numbers(w.ts) };
  },

  async rollouts(
    id: string,
    q: {
      mode?: string;
      step?: number;
      from?: number;
      to?: number;
      prompt?: string;
      reward?: string[];
      q?: string;
      sort?: string;
      order?: 'asc' | 'desc';
      offset?: number;
      limit?: number;
    },
    signal?: AbortSignal,
  ): Promise<{ rollouts: Rollout[]; more: boolean }> {
    const r = await get<{ rollouts: Rollout[]; more: boolean }>(`${exp(id)}/rollouts`, q, signal);
    return { rollouts: r.rollouts.map(fixRollout), more: r.more };
  },
  async rollout(id: string, rolloutId: number): Promise<Rollout> {
    return fixRollout(await get<Rollout>(`${exp(id)}/rollouts/${rolloutId}`));
  },
  async groups(
    id: string,
    q: { mode?: string; step?: number; from?: number; to?: number; q?: string; offset?: number; limit?: number },
    signal?: AbortSignal,
  ): Promise<{ groups: Group[]; more: boolean }> {
    const r = await get<{ groups: Group[]; more: boolean }>(`${exp(id)}/rollouts/groups`, q, signal);
    return { groups: r.groups.map((g) => ({ ...g, rewards: g.rewards.map(fixStats) })), more: r.more };
  },
  rolloutSteps: (id: string) => get<{ steps: StepCount[] }>(`${exp(id)}/rollouts/steps`),
  async rewards(id: string, mode?: string): Promise<{ steps: StepRewards[] }> {
    const r = await get<{ steps: StepRewards[] }>(`${exp(id)}/rewards`, { mode });
    return { steps: r.steps.map((s) => ({ ...s, rewards: s.rewards.map(fixStats) })) };
  },

  /** The experiment's live event stream; the caller closes it. */
  events: (id: string) => new EventSource(`${exp(id)}/events`, { withCredentials: true }),
};
