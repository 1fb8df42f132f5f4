import { describe, expect, it } from 'vitest';
import type { Rollout } from '../api';
import { RewardTable } from './rewards';

function rollout(step: number, rewards: Record<string, number>, mode = 'train'): Rollout {
  return { id: 0, step, mode, promptText: '', messages: [], rewards: Object.entries(rewards).map(([name, value]) => ({ name, value })), ts: 0, createdAt: '' };
}

describe('RewardTable', () => {
  it('turns server stats into a mean line and a band clipped to min..max', () => {
    const t = RewardTable.from([
      { step: 2, mode: 'train', count: 4, rewards: [{ name: 'correct', count: 4, nans: 0, mean: 0.75, std: Math.sqrt(0.1875), min: 0, max: 1 }] },
      { step: 1, mode: 'train', count: 2, rewards: [{ name: 'correct', count: 2, nans: 0, mean: 0.5, std: 0.5, min: 0, max: 1 }] },
    ]);
    const l = t.line('train', 'correct');
    expect(l.raw.step).toEqual([1, 2]);
    expect(l.raw.value).toEqual([0.5, 0.75]);
    expect(l.lo!.value[0]).toBeCloseTo(0, 12);
    expect(l.hi!.value[0]).toBeCloseTo(1, 12);
    // 0.75 + 0.433 would pass 1: clipped to the max.
    expect(l.hi!.value[1]).toBe(1);
    expect(l.lo!.value[1]).toBeCloseTo(0.75 - Math.sqrt(0.1875), 12);
  });

  it('folds live rollouts into the same statistics the server would compute', () => {
    const t = RewardTable.from([{ step: 1, mode: 'train', count: 2, rewards: [{ name: 'r', count: 2, nans: 0, mean: 2, std: 1, min: 1, max: 3 }] }]);
    // Values so far {1, 3}; add 5 and NaN (ignored): {1, 3, 5}, mean 3, population std sqrt(8/3).
    expect(t.addRollouts([rollout(1, { r: 5 }), rollout(1, { r: NaN })])).toBe(true);
    const l = t.line('train', 'r');
    expect(l.raw.value[0]).toBeCloseTo(3, 12);
    expect(l.hi!.value[0]).toBeCloseTo(3 + Math.sqrt(8 / 3), 12);
    expect(l.lo!.value[0]).toBeCloseTo(3 - Math.sqrt(8 / 3), 12);
  });

  it('creates new steps, rewards and modes from live rollouts', () => {
    const t = RewardTable.from([]);
    t.addRollouts([rollout(3, { fmt: 1 }), rollout(1, { fmt: 0 }), rollout(1, { acc: 1 }, 'eval')]);
    expect(t.keys()).toEqual([
      { mode: 'train', name: 'fmt' },
      { mode: 'eval', name: 'acc' },
    ]);
    expect(t.line('train', 'fmt').raw).toEqual({ step: [1, 3], value: [0, 1] });
    expect(t.line('nope', 'x').raw.step).toEqual([]);
  });
});
