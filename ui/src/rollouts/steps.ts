// Which steps have rollouts, per mode: loaded once, then kept current from
// the live stream instead of being refetched.
import { useEffect, useState } from 'preact/hooks';
import { api, type Rollout, type StepCount } from '../api';

/** train first, eval second, then the rest by name (DESIGN-NOTES: Mode). */
export function orderModes(steps: StepCount[]): string[] {
  const rank = (m: string) => (m === 'train' ? 0 : m === 'eval' ? 1 : 2);
  return [...new Set(steps.map((s) => s.mode))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The step list with live rollouts counted in; new steps are added. */
export function countRollouts(steps: StepCount[], rs: Pick<Rollout, 'mode' | 'step'>[]): StepCount[] {
  const next = steps.slice();
  for (const r of rs) {
    const i = next.findIndex((s) => s.mode === r.mode && s.step === r.step);
    if (i >= 0) next[i] = { ...next[i], count: next[i].count + 1 };
    else next.push({ mode: r.mode, step: r.step, count: 1 });
  }
  return next;
}

/** Sorted steps of one mode. */
export function stepsOf(steps: StepCount[], mode: string | null): number[] {
  return steps
    .filter((s) => s.mode === mode)
    .map((s) => s.step)
    .sort((a, b) => a - b);
}

export function useSteps(experimentId: string, reload: number) {
  const [steps, setSteps] = useState<StepCount[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.rolloutSteps(experimentId).then(
      (r) => live && setSteps(r.steps),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [experimentId, reload]);
  /** Count rollouts that arrived live (ignored until the first load, which includes them). */
  const add = (rs: Rollout[]) => setSteps((prev) => (prev ? countRollouts(prev, rs) : prev));
  return { steps, error, add };
}
