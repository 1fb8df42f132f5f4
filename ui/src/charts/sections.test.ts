import { describe, expect, it } from 'vitest';
import { matchesSearch, sectionsOf } from './sections';

describe('sectionsOf', () => {
  it('puts train first, eval second, other modes alphabetically', () => {
    const s = sectionsOf([
      { mode: 'perf', name: 'tok_s' },
      { mode: 'eval', name: 'acc' },
      { mode: 'aux', name: 'x' },
      { mode: 'train', name: 'loss' },
      { mode: 'train', name: 'kl' },
    ]);
    expect(s.map((x) => x.mode)).toEqual(['train', 'eval', 'aux', 'perf']);
    expect(s[0].items.map((m) => m.name)).toEqual(['kl', 'loss']);
  });

  it('sorts names naturally', () => {
    const s = sectionsOf([
      { mode: 'train', name: 'layer10' },
      { mode: 'train', name: 'layer2' },
    ]);
    expect(s[0].items.map((m) => m.name)).toEqual(['layer2', 'layer10']);
  });
});

describe('matchesSearch', () => {
  it('needs every word somewhere in mode/name', () => {
    expect(matchesSearch('train', 'kl_div', 'kl train')).toBe(true);
    expect(matchesSearch('train', 'kl_div', 'KL')).toBe(true);
    expect(matchesSearch('eval', 'kl_div', 'kl train')).toBe(false);
    expect(matchesSearch('train', 'loss', '')).toBe(true);
  });
});
