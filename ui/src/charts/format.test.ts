import { describe, expect, it } from 'vitest';
import { escapeHTML, formatStep, formatValue } from './format';

describe('formatStep', () => {
  it('groups digits in full and shortens on axes', () => {
    expect(formatStep(12345, false)).toBe('12,345');
    expect(formatStep(12345, true)).toBe('12.3k');
    expect(formatStep(100000, true)).toBe('100k');
    expect(formatStep(2_500_000, true)).toBe('2.5M');
    expect(formatStep(950, true)).toBe('950');
  });
});

describe('formatValue', () => {
  it('keeps four significant digits and uses exponents at the extremes', () => {
    expect(formatValue(0.123456, false)).toBe('0.1235');
    expect(formatValue(2, false)).toBe('2');
    expect(formatValue(3e-6, false)).toBe('3e-6');
    expect(formatValue(1.25e7, false)).toBe('1.25e7');
    expect(formatValue(-41.5, true)).toBe('-41.5');
    expect(formatValue(1050.4, true)).toBe('1,050');
  });
  it('names what is not a number', () => {
    expect(formatValue(NaN, false)).toBe('NaN');
    expect(formatValue(-Infinity, false)).toBe('−∞');
    expect(formatValue(null, false)).toBe('–');
  });
});

describe('escapeHTML', () => {
  it('escapes markup in run names', () => {
    expect(escapeHTML('<b>"x"&')).toBe('&#60;b&#62;&#34;x&#34;&#38;');
  });
});
