// When a run counts as "live": still active and heard from recently. The SDK
// writes at least every few seconds while training, so two quiet minutes mean
// the process is gone or stuck even if it never marked itself complete.
import type { Experiment } from '../api';

export const LIVE_WINDOW_MS = 2 * 60 * 1000;

export function isLive(e: Pick<Experiment, 'status' | 'updatedAt'>, now: number): boolean {
  if (e.status !== 'active') return false;
  const t = Date.parse(e.updatedAt);
  return Number.isFinite(t) && now - t < LIVE_WINDOW_MS;
}
