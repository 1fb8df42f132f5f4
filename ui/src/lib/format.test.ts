import { describe, expect, it } from 'vitest';
import { absoluteTime, formatCompact, formatNumber, formatStep, relativeTime } from './format';

describe('relativeTime', () => {
  const now = Date.parse('2024-05-10T12:00:00Z');
  it('names the largest whole unit', () => {
    expect(relativeTime('2024-05-10T11:59:58Z', now)).toBe('just now');
    expect(relativeTime('2024-05-10T11:59:15Z', now)).toBe('45s ago');
    expect(relativeTime('2024-05-10T11:55:00Z', now)).toBe('5m ago');
    expect(relativeTime('2024-05-10T09:00:00Z', now)).toBe('3h ago');
    expect(relativeTime('2024-05-08T12:00:00Z', now)).toBe('2d ago');
    expect(relativeTime('2024-04-26T12:00:00Z', now)).toBe('2w ago');
    expect(relativeTime('2024-01-10T12:00:00Z', now)).toBe('3mo ago');
    expect(relativeTime('2021-05-10T12:00:00Z', now)).toBe('3y ago');
  });
  it('treats a clock-skewed future time as now and bad input as empty', () => {
    expect(relativeTime('2024-05-10T12:05:00Z', now)).toBe('just now');
    expect(relativeTime('not a date', now)).toBe('');
  });
});

describe('absoluteTime', () => {
  it('prints local date and time with seconds', () => {
    const d = new Date(2024, 0, 2, 3, 4, 5);
    expect(absoluteTime(d)).toBe('2024-01-02 03:04:05');
    expect(absoluteTime('garbage')).toBe('');
  });
});

describe('formatNumber', () => {
  it('shows non-finite values as text', () => {
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(Infinity)).toBe('Inf');
    expect(formatNumber(-Infinity)).toBe('-Inf');
  });
  it('keeps four significant digits and groups integers', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(-2.5)).toBe('-2.5');
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(null)).toBe('');
  });
  it('uses exponent form at the extremes', () => {
    expect(formatNumber(0.0000123)).toBe('1.23e-5');
    expect(formatNumber(1e20)).toBe('1e+20');
  });
});

describe('formatCompact', () => {
  it('uses k/M/B suffixes', () => {
    expect(formatCompact(999)).toBe('999');
    expect(formatCompact(1234)).toBe('1.23k');
    expect(formatCompact(2_500_000)).toBe('2.5M');
    expect(formatCompact(-3_000_000_000)).toBe('-3B');
  });
  it('carries a rounded 1000k into the next unit', () => {
    expect(formatCompact(999_950)).toBe('1M');
  });
  it('handles small and non-finite values', () => {
    expect(formatCompact(0.5)).toBe('0.5');
    expect(formatCompact(0.0000123)).toBe('1.2e-5');
    expect(formatCompact(NaN)).toBe('NaN');
    expect(formatCompact(-Infinity)).toBe('-Inf');
  });
});

describe('formatStep', () => {
  it('groups thousands and is empty without a step', () => {
    expect(formatStep(12345)).toBe('12,345');
    expect(formatStep(null)).toBe('');
  });
});
