import { describe, expect, it } from 'vitest';
import { formatDuration, lineInTime, parseXMode } from './xAxis';
import type { LineData } from './lineData';

const line = (steps: number[], ts: number[]): LineData => {
  const pts = { step: steps, value: steps.map((s) => s * 10) };
  return { raw: pts, sample: pts, downsampled: false, total: steps.length, ts: new Map(steps.map((s, i) => [s, ts[i]])) };
};

describe('time x axis', () => {
  it('places points at their time, or their time since the first', () => {
    const d = line([0, 1, 2], [1000, 1010, 1100]);
    expect(lineInTime(d, 'wall').line.raw).toEqual({ step: [1000, 1010, 1100], value: [0, 10, 20] });
    const r = lineInTime(d, 'relative');
    expect(r.line.sample).toEqual({ step: [0, 10, 100], value: [0, 10, 20] });
    expect(r.steps).toEqual([0, 1, 2]);
  });
  it('leaves out points without a time and a clock that stepped back', () => {
    const d = line([0, 1, 2, 3], [1000, 0, 990, 1005]);
    const r = lineInTime(d, 'relative');
    expect(r.line.sample.step).toEqual([10, 15]);
    expect(r.steps).toEqual([0, 3]);
  });
  it('formats durations', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(125)).toBe('2m 05s');
    expect(formatDuration(720)).toBe('12m');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h 05m');
    expect(formatDuration(2 * 86400 + 4 * 3600)).toBe('2d 4h');
    expect(parseXMode('wall')).toBe('wall');
    expect(parseXMode('bogus')).toBe('step');
  });
});
