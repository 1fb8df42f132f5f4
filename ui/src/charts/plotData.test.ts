import { describe, expect, it } from 'vitest';
import type { LineData } from './lineData';
import { plotData } from './plotData';
import { effectiveSmoothing, SPARSE_POINTS } from './sparse';

const line = (step: number[], value: number[]): LineData => ({ raw: { step, value }, sample: { step, value }, downsampled: false, total: step.length });

describe('plotData', () => {
  it('lays out raw then smoothed columns, bridging missing steps', () => {
    const p = plotData([line([0, 2], [1, 3]), line([1], [5])], 0, false);
    expect(p.raw).toEqual([1, 2]);
    expect(p.smooth).toEqual([3, 4]);
    expect(p.data[0]).toEqual([0, 1, 2]);
    expect(p.data[1]).toEqual([1, undefined, 3]);
    expect(p.data[2]).toEqual([undefined, 5, undefined]);
    expect(p.data[3]).toEqual([1, undefined, 3]);
  });

  it('turns NaN and Infinity into gaps and records where they were', () => {
    const p = plotData([line([0, 1, 2, 3], [1, NaN, Infinity, 2])], 0.5, false);
    expect(p.data[1]).toEqual([1, null, null, 2]);
    expect(p.nonFinite).toEqual([1, 2]);
    // The smoothed line skips them too, and its value after is the EMA of 1 and 2.
    expect(p.data[2]![3]).toBeCloseTo((0.25 + 0.5 * 2) / 0.75, 12);
  });

  it('drops values <= 0 on a log axis and says whether anything is left', () => {
    const p = plotData([line([0, 1, 2], [-1, 0, 10])], 0, true);
    expect(p.data[1]).toEqual([null, null, 10]);
    expect(p.positive).toBe(true);
    expect(plotData([line([0], [-3])], 0, true).positive).toBe(false);
    expect(p.nonFinite).toEqual([]);
  });

  it('puts bands first', () => {
    const l: LineData = { ...line([0, 1], [0.5, 0.6]), lo: { step: [0, 1], value: [0.2, 0.3] }, hi: { step: [0, 1], value: [0.8, 0.9] } };
    const p = plotData([l], 0, false);
    expect(p.band).toEqual([[1, 2]]);
    expect(p.raw).toEqual([3]);
    expect(p.data[1]).toEqual([0.2, 0.3]);
  });
});


describe('effectiveSmoothing', () => {
  const line = (n: number) => ({ raw: { step: Array.from({ length: n }, (_, i) => i) }, total: n });
  it('leaves sparse charts raw and smooths the rest', () => {
    expect(effectiveSmoothing(0.6, [line(10)])).toBe(0);
    expect(effectiveSmoothing(0.6, [line(SPARSE_POINTS - 1), line(3)])).toBe(0);
    expect(effectiveSmoothing(0.6, [line(SPARSE_POINTS), line(3)])).toBe(0.6);
    // A downsampled series counts what the server holds, not the buckets sent.
    expect(effectiveSmoothing(0.6, [{ raw: { step: [1, 2, 3] }, total: 100_000 }])).toBe(0.6);
  });
});
