import { describe, expect, it } from 'vitest';
import type { Group, Rollout } from '../api';
import { answerPreview, fmtNum, oneLine, rewardNames, textHash, boxedAnswer, parseWeights, totalReward } from './format';
import { inLoggedOrder } from './ChatView';
import { advantages, flat, zeroVariance } from './GroupList';
import { nearest } from './StepPicker';

const rollout = (messages: Rollout['messages']): Rollout => ({
  id: 1, step: 0, mode: 'train', promptText: 'p', messages, rewards: [], ts: 0, createdAt: '',
});

describe('fmtNum', () => {
  it('shows NaN and infinities instead of hiding them', () => {
    expect(fmtNum(NaN)).toBe('NaN');
    expect(fmtNum(Infinity)).toBe('∞');
    expect(fmtNum(-Infinity)).toBe('-∞');
  });
  it('keeps integers, rounds to four significant digits, uses exponents at the extremes', () => {
    expect(fmtNum(1)).toBe('1');
    expect(fmtNum(-0.123456)).toBe('-0.1235');
    expect(fmtNum(0.5)).toBe('0.5');
    expect(fmtNum(0.00012)).toBe('1.20e-4');
    expect(fmtNum(12345678.9)).toBe('1.23e+7');
    expect(fmtNum(undefined)).toBe('');
  });
});

describe('answerPreview', () => {
  it('is the last assistant message on one line', () => {
    expect(answerPreview(rollout([{ role: 'assistant', content: 'first' }, { role: 'user', content: 'q' }, { role: 'assistant', content: 'a\n\n b' }]))).toBe('a b');
  });
  it('drops Markdown marks from the preview', () => {
    expect(answerPreview(rollout([{ role: 'assistant', content: '# Sum\n17 × 23 = **391** via `calc`\n```py\nx = 1\n```' }]))).toBe('Sum 17 × 23 = 391 via calc x = 1');
  });
  it('names the tools when the last assistant turn only called tools', () => {
    const r = rollout([{ role: 'assistant', content: null, tool_calls: [{ function: { name: 'calc', arguments: '{}' } }] }]);
    expect(answerPreview(r)).toBe('→ calc()');
  });
  it('is empty without an assistant message', () => {
    expect(answerPreview(rollout([{ role: 'user', content: 'hi' }]))).toBe('');
  });
});

describe('helpers', () => {
  it('collapses whitespace and truncates', () => {
    expect(oneLine(' a \n b ')).toBe('a b');
    expect(oneLine('abcdef', 3)).toBe('abc…');
  });
  it('lists reward names in first-seen order', () => {
    expect(rewardNames([{ rewards: [{ name: 'b' }] }, { rewards: [{ name: 'a' }, { name: 'b' }] }])).toEqual(['b', 'a']);
  });
  it('hashes prompts stably and distinctly', () => {
    expect(textHash('abc')).toBe(textHash('abc'));
    expect(textHash('abc')).not.toBe(textHash('abd'));
    expect(textHash('abc')).toMatch(/^[0-9a-f]{8}$/);
  });
  it('snaps to the nearest step that has rollouts', () => {
    expect(nearest([0, 10, 20], 14)).toBe(10);
    expect(nearest([0, 10, 20], 16)).toBe(20);
    expect(nearest([0, 10, 20], 99)).toBe(20);
  });
});

describe('zeroVariance', () => {
  const stats = (std: number, nans = 0) => ({ name: 'r', count: 4, nans, mean: 1, std, min: 1, max: 1 });
  const group = (...rewards: ReturnType<typeof stats>[]): Group => ({ step: 0, mode: 'train', promptText: 'p', count: 4, rewards });
  it('is true only when every reward has zero spread', () => {
    expect(zeroVariance(group(stats(0), stats(0)))).toBe(true);
    expect(zeroVariance(group(stats(0), stats(0.1)))).toBe(false);
  });
  it('is false for a group with NaN rewards or no rewards', () => {
    expect(zeroVariance(group(stats(0, 1)))).toBe(false);
    expect(zeroVariance(group())).toBe(false);
  });
});

describe('reasoning in previews', () => {
  const r = (content: string) =>
    ({ id: 1, step: 0, mode: 'train', promptText: 'p', messages: [{ role: 'assistant', content }], rewards: [], ts: 0 }) as unknown as Rollout;
  it('the preview is the answer after the reasoning, and the boxed answer its own', () => {
    const x = r('<think>Let me check the cases one by one…</think>\n\nSo $\\boxed{42}$.');
    expect(answerPreview(x)).toBe('So $\\boxed{42}$.');
    expect(boxedAnswer(x)).toBe('42');
  });
  it('a trace cut off says so instead of showing its start', () => {
    expect(answerPreview(r('<think>Let me chec'))).toBe('(reasoning cut off, no answer)');
  });
});

describe('inLoggedOrder', () => {
  const sys = { role: 'system', content: 'be brief' };
  const prompt = { role: 'user', content: 'q' };
  const ans = { role: 'assistant', content: 'a' };
  it('a logged prompt is labelled where it stands, after the system message', () => {
    expect(inLoggedOrder(prompt, [sys, prompt, ans])).toEqual({ messages: [sys, prompt, ans], promptAt: 1 });
  });
  it('a prompt logged apart goes after the leading system messages', () => {
    expect(inLoggedOrder(prompt, [sys, ans])).toEqual({ messages: [sys, prompt, ans], promptAt: 1 });
    expect(inLoggedOrder(prompt, [ans])).toEqual({ messages: [prompt, ans], promptAt: 0 });
  });
});

describe('GRPO advantages', () => {
  const r = (rewards: [string, number][]): Rollout => ({ ...rollout([]), rewards: rewards.map(([name, value]) => ({ name, value })) });
  it('normalises the total reward within the group', () => {
    const a = advantages([r([['c', 1], ['f', 0.5]]), r([['c', 0], ['f', 0.5]])]);
    expect(a).toEqual([1, -1]);
  });
  it('a group without spread has zero advantage; NaN counts as missing', () => {
    expect(advantages([r([['c', 1]]), r([['c', 1]])])).toEqual([0, 0]);
    expect(advantages([r([['c', NaN]]), r([['c', 0]])])).toEqual([0, 0]);
  });
  it('one flat reward is flagged on its own', () => {
    const g = { promptText: 'p', count: 4, rewards: [
      { name: 'correctness', mean: 1, std: 0, min: 1, max: 1, nans: 0 },
      { name: 'length', mean: -0.1, std: 0.05, min: -0.2, max: 0, nans: 0 },
    ] } as unknown as Group;
    expect(flat(g, 'correctness')).toBe(true);
    expect(flat(g, 'length')).toBe(false);
    expect(zeroVariance(g)).toBe(false);
  });
});

describe('weighted total reward', () => {
  const r = (rewards: [string, number][]) => ({ rewards: rewards.map(([name, value]) => ({ name, value })) });
  it('sums every finite reward, or the named ones with their weights', () => {
    expect(totalReward(r([['correctness', 1], ['format', 0.5], ['len', NaN]]), new Map())).toBe(1.5);
    expect(totalReward(r([['correctness', 1], ['format', 0.5]]), parseWeights('correctness=2, format = 0.2, bad, x=y'))).toBeCloseTo(2.1);
    expect(totalReward(r([['len', NaN]]), new Map())).toBeNaN();
  });
  it('weights parse names with = signs in them by the last one', () => {
    expect([...parseWeights('a=b=0.5,c=1')]).toEqual([['a=b', 0.5], ['c', 1]]);
  });
});
