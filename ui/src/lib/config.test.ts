import { describe, expect, it } from 'vitest';
import { CONFIG_DEPTH, configText, diffConfigs, flattenConfig } from './config';

describe('flattenConfig', () => {
  it('flattens nested objects and indexes arrays', () => {
    const c = { lr: 0.001, model: { name: 'qwen', layers: [{ width: 64 }, { width: 128 }] }, tags: ['a', 'b'] };
    expect(flattenConfig(c)).toEqual([
      ['lr', 0.001],
      ['model.name', 'qwen'],
      ['model.layers.0.width', 64],
      ['model.layers.1.width', 128],
      ['tags.0', 'a'],
      ['tags.1', 'b'],
    ]);
  });
  it('keeps null and empty containers as values', () => {
    expect(flattenConfig({ a: null, b: {}, c: [], d: { e: false } })).toEqual([
      ['a', null],
      ['b', {}],
      ['c', []],
      ['d.e', false],
    ]);
  });
  it('returns nothing for an empty or missing config', () => {
    expect(flattenConfig({})).toEqual([]);
    expect(flattenConfig(undefined)).toEqual([]);
  });
});

describe('configText', () => {
  it('renders JSON text, so markup stays text', () => {
    expect(configText('<b>x</b>')).toBe('"<b>x</b>"');
    expect(configText([1, 2])).toBe('[1,2]');
    expect(configText(undefined)).toBe('');
  });
});

describe('diffConfigs', () => {
  it('returns only differing keys, with one value per config', () => {
    const d = diffConfigs([
      { lr: 0.1, seed: 1, opt: { name: 'adam', beta: 0.9 } },
      { lr: 0.2, seed: 1, opt: { name: 'adam', beta: 0.9 } },
    ]);
    expect(d).toEqual([{ key: 'lr', values: [0.1, 0.2] }]);
  });
  it('counts a missing key as different', () => {
    const d = diffConfigs([{ a: 1, b: 2 }, { a: 1 }, { a: 1, b: 2 }]);
    expect(d).toEqual([{ key: 'b', values: [2, undefined, 2] }]);
  });
  it('tells a string from a number of the same text', () => {
    expect(diffConfigs([{ x: '1' }, { x: 1 }])).toEqual([{ key: 'x', values: ['1', 1] }]);
  });
  it('compares array elements by index', () => {
    expect(diffConfigs([{ l: [1, 2] }, { l: [1, 3, 4] }])).toEqual([
      { key: 'l.1', values: [2, 3] },
      { key: 'l.2', values: [undefined, 4] },
    ]);
  });
  it('finds nothing for identical configs', () => {
    expect(diffConfigs([{ a: { b: 1 } }, { a: { b: 1 } }])).toEqual([]);
  });
});

describe('deep configs', () => {
  it('folds values nested past CONFIG_DEPTH into one "…" leaf instead of overflowing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 9990; i++) deep = { a: deep };
    const flat = flattenConfig({ lr: 1e-6, deep });
    expect(flat).toHaveLength(2);
    expect(flat[0]).toEqual(['lr', 1e-6]);
    expect(flat[1][0].split('.')).toHaveLength(CONFIG_DEPTH);
    expect(configText(flat[1][1])).toBe('…');
    expect(diffConfigs([{ deep }, { deep: 2 }])).toHaveLength(2);
  });
});

describe('configText numbers', () => {
  it('small and huge numbers in exponent form, the rest as JSON', () => {
    expect(configText(1e-6)).toBe('1e-6');
    expect(configText(3e-6)).toBe('3e-6');
    expect(configText(2.5e-5)).toBe('2.5e-5');
    expect(configText(0.001)).toBe('0.001');
    expect(configText(0)).toBe('0');
    expect(configText(1e21)).toBe('1e21');
    expect(configText(4096)).toBe('4096');
  });
});
