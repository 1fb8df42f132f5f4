import { describe, expect, it } from 'vitest';
import { configDiff, flatten, MISSING } from './configDiff';

describe('flatten', () => {
  it('joins nested keys with dots and keeps arrays and empty objects as values', () => {
    expect(flatten({ a: { b: { c: 1 } }, d: [1, 2], e: {}, f: null })).toEqual({ 'a.b.c': 1, d: [1, 2], e: {}, f: null });
  });
});

describe('configDiff', () => {
  it('lists only keys whose values differ, including missing ones', () => {
    const rows = configDiff([
      { lr: 1e-5, optim: { name: 'adam', beta: 0.9 }, seed: 1, layers: [1, 2] },
      { lr: 3e-5, optim: { name: 'adam', beta: 0.9 }, seed: 1, layers: [1, 2], extra: true },
    ]);
    expect(rows).toEqual([
      { key: 'extra', values: [MISSING, true] },
      { key: 'lr', values: [1e-5, 3e-5] },
    ]);
  });

  it('tells a missing key from a null one, and finds nothing for equal configs', () => {
    expect(configDiff([{ a: null }, {}])).toEqual([{ key: 'a', values: [null, MISSING] }]);
    expect(configDiff([{ a: { b: 1 } }, { a: { b: 1 } }])).toEqual([]);
  });
});
