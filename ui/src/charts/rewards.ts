// Per-step reward statistics for the "rewards" section: what GET /rewards
// returns, kept current by folding in rollouts as they arrive live, so the
// section never refetches its whole history while a run is going.
import type { Rollout, StepRewards } from '../api';
import type { LineData } from './lineData';

/** Running statistics of one reward at one step (NaN rewards left out, as on the server). */
interface Stat {
  count: number;
  mean: number;
  m2: number; // sum of squared deviations from the mean (Welford / Chan et al.)
  min: number;
  max: number;
}

export interface RewardKey {
  mode: string;
  name: string;
}

export class RewardTable {
  /** mode -> reward name -> step -> stat */
  private byMode = new Map<string, Map<string, Map<number, Stat>>>();

  static from(steps: StepRewards[]): RewardTable {
    const t = new RewardTable();
    for (const s of steps) {
      for (const r of s.rewards) {
        if (r.count <= 0 || !Number.isFinite(r.mean)) continue;
        // The server's std is the population deviation, so m2 = std^2 * n.
        t.merge(s.mode, r.name, s.step, { count: r.count, mean: r.mean, m2: r.std * r.std * r.count, min: r.min, max: r.max });
      }
    }
    return t;
  }

  /** Fold live rollouts in; returns whether anything changed. */
  addRollouts(rs: Rollout[]): boolean {
    let changed = false;
    for (const r of rs) {
      for (const w of r.rewards) {
        if (!Number.isFinite(w.value)) continue;
        this.merge(r.mode, w.name, r.step, { count: 1, mean: w.value, m2: 0, min: w.value, max: w.value });
        changed = true;
      }
    }
    return changed;
  }

  private merge(mode: string, name: string, step: number, b: Stat): void {
    let names = this.byMode.get(mode);
    if (!names) this.byMode.set(mode, (names = new Map()));
    let steps = names.get(name);
    if (!steps) names.set(name, (steps = new Map()));
    const a = steps.get(step);
    if (!a) {
      steps.set(step, { ...b });
      return;
    }
    // Chan et al.'s parallel update: exact for any split of the values.
    const n = a.count + b.count;
    const d = b.mean - a.mean;
    a.mean += (d * b.count) / n;
    a.m2 += b.m2 + (d * d * a.count * b.count) / n;
    a.count = n;
    a.min = Math.min(a.min, b.min);
    a.max = Math.max(a.max, b.max);
  }

  keys(): RewardKey[] {
    const out: RewardKey[] = [];
    for (const [mode, names] of this.byMode) for (const name of names.keys()) out.push({ mode, name });
    return out;
  }

  /**
   * One reward in one mode as a chart line: the mean, and a band of mean ± one
   * standard deviation clipped to the observed min..max.
   *
   * Why not min..max alone: with 0/1 rewards (correctness) nearly every step
   * has both a 0 and a 1, so the band would be a useless full-height block.
   * Why not ± std alone: it pokes past values a reward can take (above 1 for
   * a 0/1 reward). The spread within a step is what GRPO's advantage feeds
   * on, so the band's width is itself worth watching; clipping keeps it honest.
   */
  line(mode: string, name: string): LineData {
    const steps = this.byMode.get(mode)?.get(name);
    const keys = steps ? [...steps.keys()].sort((a, b) => a - b) : [];
    const mean: number[] = [];
    const lo: number[] = [];
    const hi: number[] = [];
    for (const k of keys) {
      const s = steps!.get(k)!;
      const sd = Math.sqrt(Math.max(0, s.m2 / s.count));
      mean.push(s.mean);
      lo.push(Math.max(s.min, s.mean - sd));
      hi.push(Math.min(s.max, s.mean + sd));
    }
    const pts = { step: keys, value: mean };
    return { raw: pts, sample: pts, lo: { step: keys, value: lo }, hi: { step: keys, value: hi }, downsampled: false, total: keys.length };
  }
}
