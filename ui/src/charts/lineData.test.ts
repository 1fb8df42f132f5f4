import { describe, expect, it } from 'vitest';
import type { Series } from '../api';
import { appendLive, lineFromSeries } from './lineData';

function series(p: Partial<Series>): Series {
  return { mode: 'train', name: 'loss', total: 0, downsampled: false, step: [], value: [], min: [], minStep: [], max: [], maxStep: [], ts: [], ...p };
}

describe('lineFromSeries', () => {
  it('uses every point of a full series for both lines', () => {
    const l = lineFromSeries(series({ total: 3, step: [0, 1, 2], value: [3, 2, 1], min: [3, 2, 1], minStep: [0, 1, 2], max: [3, 2, 1], maxStep: [0, 1, 2] }));
    expect(l.raw).toEqual({ step: [0, 1, 2], value: [3, 2, 1] });
    expect(l.sample).toEqual({ step: [0, 1, 2], value: [3, 2, 1] });
    expect(l.downsampled).toBe(false);
  });

  it('draws a downsampled bucket through min, max and last in step order', () => {
    const l = lineFromSeries(
      series({
        downsampled: true,
        total: 20,
        // bucket 1: steps 0..9, max at 2, min at 7, last at 9
        // bucket 2: steps 10..19, min is the last point (19), max at 10
        step: [9, 19],
        value: [0.5, -1],
        min: [0.1, -1],
        minStep: [7, 19],
        max: [0.9, 4],
        maxStep: [2, 10],
      }),
    );
    expect(l.raw.step).toEqual([2, 7, 9, 10, 19]);
    expect(l.raw.value).toEqual([0.9, 0.1, 0.5, 4, -1]);
    // Smoothing sees one point per bucket, its last.
    expect(l.sample).toEqual({ step: [9, 19], value: [0.5, -1] });
    expect(l.total).toBe(20);
    expect(l.downsampled).toBe(true);
  });

  it('does not call a series downsampled when its buckets name every point', () => {
    const l = lineFromSeries(
      series({ downsampled: true, total: 3, step: [1, 2], value: [5, 6], min: [4, 6], minStep: [0, 2], max: [5, 6], maxStep: [1, 2] }),
    );
    expect(l.raw.step).toEqual([0, 1, 2]);
    expect(l.downsampled).toBe(false);
  });
});

describe('appendLive', () => {
  it('appends to a full line once', () => {
    const l = lineFromSeries(series({ total: 2, step: [0, 1], value: [1, 2], min: [1, 2], minStep: [0, 1], max: [1, 2], maxStep: [0, 1] }));
    expect(appendLive(l, [2, 1], [3, 20])).toBe(true);
    expect(l.raw).toEqual({ step: [0, 1, 2], value: [1, 20, 3] });
    expect(l.sample).toBe(l.raw);
  });

  it('keeps one smoothing sample per bucket width on a downsampled line', () => {
    // Buckets of 10 steps: last points at 9, 19, 29.
    const l = lineFromSeries(
      series({ downsampled: true, total: 30, step: [9, 19, 29], value: [1, 2, 3], min: [1, 2, 3], minStep: [9, 19, 29], max: [1, 2, 3], maxStep: [9, 19, 29] }),
    );
    expect(l.bucket).toBe(10);
    appendLive(l, [30, 31, 35, 40], [4, 5, 6, 7]);
    expect(l.raw.step).toEqual([9, 19, 29, 30, 31, 35, 40]);
    // 30, 31 and 35 share the bucket [30, 40): only its latest stays; 40 opens the next.
    expect(l.sample).toEqual({ step: [9, 19, 29, 35, 40], value: [1, 2, 3, 6, 7] });
  });
});
