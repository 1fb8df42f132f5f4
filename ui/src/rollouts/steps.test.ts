import { describe, expect, it } from 'vitest';
import { countRollouts, orderModes, stepsOf } from './steps';

describe('steps', () => {
  const steps = [
    { mode: 'eval', step: 10, count: 2 },
    { mode: 'perf', step: 0, count: 1 },
    { mode: 'train', step: 3, count: 8 },
    { mode: 'aux', step: 1, count: 1 },
    { mode: 'train', step: 1, count: 8 },
  ];
  it('orders modes train, eval, then by name', () => {
    expect(orderModes(steps)).toEqual(['train', 'eval', 'aux', 'perf']);
  });
  it('lists one mode\'s steps in order', () => {
    expect(stepsOf(steps, 'train')).toEqual([1, 3]);
    expect(stepsOf(steps, null)).toEqual([]);
  });
  it('counts live rollouts into known steps and adds new ones without mutating', () => {
    const next = countRollouts(steps, [
      { mode: 'train', step: 3 },
      { mode: 'train', step: 3 },
      { mode: 'train', step: 4 },
    ]);
    expect(next.find((s) => s.mode === 'train' && s.step === 3)?.count).toBe(10);
    expect(next.find((s) => s.mode === 'train' && s.step === 4)?.count).toBe(1);
    expect(stepsOf(next, 'train')).toEqual([1, 3, 4]);
    expect(steps.find((s) => s.mode === 'train' && s.step === 3)?.count).toBe(8);
  });
});
