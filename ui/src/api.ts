// Typed client for the expt HTTP API (api/openapi.yaml is the contract).
// The browser authenticates with the HttpOnly session cookie; every write
// sends a JSON content type, which the server's CSRF check requires.

import type { components, paths } from './api.gen';

// The wire types come from api/openapi.yaml (npm run gen:api writes
// api.gen.ts; make lint checks it is current), so the UI cannot drift from
// the server. What the UI works with is the same with numbers decoded:
// non-finite values arrive as strings and become NaN or ±Infinity.
type Schemas = components['schemas'];

/** A double from the wire: non-finite values arrive as strings. */
export type WireNumber = Schemas['Number'];

/** T with every WireNumber decoded to a number. */
export type Decoded<T> = T extends WireNumber
  ? number
  : T extends (infer U)[]
    ? Decoded<U>[]
    : T extends object
      ? { [K in keyof T]: Decoded<T[K]> }
      : T;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The JSON a route answers with 200 (or 201). */
export type Answer<P extends keyof paths, M extends Method = 'get'> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
}
  ? T
  : paths[P][M] extends { responses: { 201: { content: { 'application/json': infer T } } } }
    ? T
    : never;
/** The JSON body a route takes. */
export type Body<P extends keyof paths, M extends Method> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer T } };
}
  ? T
  : never;

export function num(v: WireNumber | null | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return NaN;
}

export type Status = Schemas['Status'];
export type User = Schemas['User'];
export type APIKey = Schemas['APIKey'];
export type Project = Schemas['Project'];
export type Member = Schemas['Member'];
export type Role = Schemas['Role'];
export type Access = APIKey['access'];
export type Experiment = Schemas['Experiment'];
export type ExperimentSummary = Schemas['ExperimentSummary'];
export type Metric = Schemas['Metric'];
export type Series = Decoded<Answer<'/api/experiments/{id}/series'>>;
export type Message = Schemas['Message'];
/** A rollout; its tokens' values as numbers (see fixRollout). */
export type Rollout = Omit<Decoded<Schemas['Rollout']>, 'tokens'> & { tokens?: Tokens[] };
export type Reward = Rollout['rewards'][number];
export type RewardStats = Decoded<Schemas['RewardStats']>;
export type Group = Decoded<Schemas['Group']>;
export type StepCount = Answer<'/api/experiments/{id}/rollouts/steps'>['steps'][number];
export type StepRewards = Decoded<Answer<'/api/experiments/{id}/rewards'>['steps'][number]>;
export type RewardDistribution = Answer<'/api/experiments/{id}/rewards/distribution'>;

function fixDistribution(d: RewardDistribution) {
  return { ...d, lo: num(d.lo), hi: num(d.hi), steps: d.steps.map((s) => ({ ...s, mean: num(s.mean), p10: num(s.p10), p50: num(s.p50), p90: num(s.p90) })) };
}
export type ScalarEvent = Decoded<Schemas['ScalarEvent']>;
export type ScalarsEvent = Schemas['ScalarsEvent'];
export type RolloutsEvent = Schemas['RolloutsEvent'];
export type ExperimentEvent = Schemas['ExperimentEvent'];

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

function fixStats(s: Schemas['RewardStats']): RewardStats {
  return { ...s, mean: num(s.mean), std: num(s.std), min: num(s.min), max: num(s.max) };
}

/** One message's tokens with their values as numbers (NaN where a token has none). */
export interface Tokens {
  message: number;
  text: string[];
  values: Record<string, number[]>;
}

export function fixRollout(r: Schemas['Rollout']): Rollout {
  const tokens = r.tokens?.map(
    (t): Tokens => ({
      message: t.message,
      text: t.text,
      values: Object.fromEntries(Object.entries(t.values ?? {}).map(([k, vs]) => [k, vs.map((v) => (v === null ? NaN : num(v)))])),
    }),
  );
  return { ...r, ts: num(r.ts), rewards: r.rewards.map((x) => ({ name: x.name, value: num(x.value) })), tokens };
}

const exp = (id: string) => `/api/experiments/${encodeURIComponent(id)}`;
type E = '/api/experiments/{id}';

export const api = {
  signUp: (email: string, password: string, name?: string) =>
    request<Answer<'/api/auth/sign-up/email', 'post'>>('POST', '/api/auth/sign-up/email', {
      email,
      password,
      ...(name ? { name } : {}),
    } satisfies Body<'/api/auth/sign-up/email', 'post'>),
  signIn: (email: string, password: string) =>
    request<Answer<'/api/auth/sign-in/email', 'post'>>('POST', '/api/auth/sign-in/email', {
      email,
      password,
    } satisfies Body<'/api/auth/sign-in/email', 'post'>),
  signOut: () => request<Answer<'/api/auth/sign-out', 'post'>>('POST', '/api/auth/sign-out', {}),
  me: () => get<Answer<'/api/me'>>('/api/me'),

  listKeys: () => get<Answer<'/api/api-keys'>>('/api/api-keys'),
  createKey: (name: string, scope: { project?: string; access?: Access } = {}) =>
    request<Answer<'/api/api-keys', 'post'>>('POST', '/api/api-keys', {
      name,
      ...(scope.project ? { project: scope.project } : {}),
      ...(scope.access && scope.access !== 'full' ? { access: scope.access } : {}),
    } satisfies Body<'/api/api-keys', 'post'>),

  projects: () => get<Answer<'/api/projects'>>('/api/projects'),
  createProject: (name: string) =>
    request<Answer<'/api/projects', 'post'>>('POST', '/api/projects', { name } satisfies Body<'/api/projects', 'post'>),
  project: (id: number) => get<Answer<'/api/projects/{id}'>>(`/api/projects/${id}`),
  deleteProject: (id: number) => request<Answer<'/api/projects/{id}', 'delete'>>('DELETE', `/api/projects/${id}`),
  members: (id: number) => get<Answer<'/api/projects/{id}/members'>>(`/api/projects/${id}/members`),
  addMember: (id: number, email: string, role: Role) =>
    request<Answer<'/api/projects/{id}/members', 'post'>>('POST', `/api/projects/${id}/members`, {
      email,
      role,
    } satisfies Body<'/api/projects/{id}/members', 'post'>),
  setRole: (id: number, userId: number, role: Role) =>
    request<Answer<'/api/projects/{id}/members/{userId}', 'patch'>>('PATCH', `/api/projects/${id}/members/${userId}`, {
      role,
    } satisfies Body<'/api/projects/{id}/members/{userId}', 'patch'>),
  removeMember: (id: number, userId: number) =>
    request<Answer<'/api/projects/{id}/members/{userId}', 'delete'>>('DELETE', `/api/projects/${id}/members/${userId}`),
  revokeKey: (id: string) =>
    request<Answer<'/api/api-keys/{id}', 'delete'>>('DELETE', `/api/api-keys/${encodeURIComponent(id)}`),

  listExperiments: (q: {
    q?: string;
    status?: Status;
    sort?: string;
    order?: 'asc' | 'desc';
    offset?: number;
    limit?: number;
    project?: number;
    tag?: string;
    config?: string[];
    metric?: string[];
  }) =>
    get<Answer<'/api/experiments'>>('/api/experiments', q),
  getExperiment: (id: string) => get<Answer<E>>(exp(id)),
  details: (id: string) => get<Answer<`${E}/details`>>(`${exp(id)}/details`),
  updateExperiment: (id: string, u: Body<E, 'put'>) => request<Answer<E, 'put'>>('PUT', exp(id), u),
  deleteExperiments: (ids: string[]) =>
    request<Answer<'/api/experiments', 'delete'>>('DELETE', '/api/experiments', { ids } satisfies Body<'/api/experiments', 'delete'>),

  metrics: (id: string) => get<Answer<`${E}/metrics`>>(`${exp(id)}/metrics`),
  async series(
    id: string,
    q: { mode: string; name: string; maxPoints?: number; from?: number; to?: number },
    signal?: AbortSignal,
  ): Promise<Series> {
    const s = await get<Answer<`${E}/series`>>(`${exp(id)}/series`, q, signal);
    return { ...s, value: numbers(s.value), min: numbers(s.min), max: numbers(s.max), ts: numbers(s.ts) };
  },

  async rollouts(
    id: string,
    q: {
      mode?: string;
      step?: number;
      from?: number;
      to?: number;
      prompt?: string;
      /** An explicit group id (log_rollout(group=)); '' for rollouts logged without one. */
      group?: string;
      reward?: string[];
      q?: string;
      sort?: string;
      order?: 'asc' | 'desc';
      offset?: number;
      limit?: number;
      /** preview: no messages, the table's preview from the server instead (see Rollout.preview). */
      view?: 'full' | 'preview';
      reasoningTags?: string;
    },
    signal?: AbortSignal,
  ): Promise<{ rollouts: Rollout[]; more: boolean }> {
    const r = await get<Answer<`${E}/rollouts`>>(`${exp(id)}/rollouts`, q, signal);
    return { rollouts: r.rollouts.map(fixRollout), more: r.more };
  },
  async rollout(id: string, rolloutId: number): Promise<Rollout> {
    return fixRollout(await get<Answer<`${E}/rollouts/{rolloutId}`>>(`${exp(id)}/rollouts/${rolloutId}`));
  },
  async groups(
    id: string,
    q: { mode?: string; step?: number; from?: number; to?: number; q?: string; offset?: number; limit?: number },
    signal?: AbortSignal,
  ): Promise<{ groups: Group[]; more: boolean }> {
    const r = await get<Answer<`${E}/rollouts/groups`>>(`${exp(id)}/rollouts/groups`, q, signal);
    return { groups: r.groups.map((g) => ({ ...g, rewards: g.rewards.map(fixStats) })), more: r.more };
  },
  rolloutSteps: (id: string) => get<Answer<`${E}/rollouts/steps`>>(`${exp(id)}/rollouts/steps`),
  async rewards(id: string, mode?: string): Promise<{ steps: StepRewards[] }> {
    const r = await get<Answer<`${E}/rewards`>>(`${exp(id)}/rewards`, { mode });
    return { steps: r.steps.map((s) => ({ ...s, rewards: s.rewards.map(fixStats) })) };
  },

  /** The experiment's live event stream; the caller closes it. */
  async distribution(id: string, q: { mode: string; name: string; bins?: number; maxSteps?: number }, signal?: AbortSignal) {
    return fixDistribution(await get<RewardDistribution>(`${exp(id)}/rewards/distribution`, q, signal));
  },
  /** Response lengths over training, binned like a reward. */
  async lengthDistribution(id: string, q: { mode: string; bins?: number; maxSteps?: number }, signal?: AbortSignal) {
    return fixDistribution(await get<RewardDistribution>(`${exp(id)}/rollouts/lengths`, q, signal));
  },
  events: (id: string) => new EventSource(`${exp(id)}/events`, { withCredentials: true }),
};
