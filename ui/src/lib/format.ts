// Formatting shared by every page: times relative to now and numbers that
// stay readable at any magnitude. Non-finite values are shown as words,
// never as blanks or zeros, because a NaN loss is news the user must see.

const units: [number, string][] = [
  [60, 's'],
  [60, 'm'],
  [24, 'h'],
  [7, 'd'],
  [4.345, 'w'],
  [12, 'mo'],
  [Infinity, 'y'],
];

/** "just now", "5m ago", "3h ago", "2d ago"; future times (clock skew) read "just now". */
export function relativeTime(when: string | number | Date, now: number = Date.now()): string {
  const t = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(t)) return '';
  let v = (now - t) / 1000;
  if (v < 10) return 'just now';
  for (const [size, unit] of units) {
    if (v < size) return `${Math.floor(v)}${unit} ago`;
    v /= size;
  }
  return '';
}

/** The exact local time, for title attributes next to a relative time. */
export function absoluteTime(when: string | number | Date): string {
  const d = when instanceof Date ? when : new Date(when);
  if (!Number.isFinite(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function nonFinite(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return null;
}

/** Up to `digits` significant digits, trailing zeros dropped; exponent form for tiny or huge values. */
export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '';
  const nf = nonFinite(v);
  if (nf) return nf;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e15) return v.toLocaleString('en-US');
  if (a >= 1e15 || a < 1e-4) return v.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(digits)));
}

const suffixes = ['', 'k', 'M', 'B', 'T'];

/** Axis-style compact form: 1234 → "1.23k", 2.5e6 → "2.5M", 0.000012 → "1.2e-5". */
export function formatCompact(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const nf = nonFinite(v);
  if (nf) return nf;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3) return v.toExponential(1).replace(/\.0e/, 'e');
  if (a < 1000) return String(Number(v.toPrecision(3)));
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < suffixes.length - 1) {
    x /= 1000;
    i++;
  }
  // Rounding can carry 999.9k up to "1000k"; move it to the next unit.
  if (Math.abs(Number(x.toPrecision(3))) >= 1000 && i < suffixes.length - 1) {
    x /= 1000;
    i++;
  }
  return String(Number(x.toPrecision(3))) + suffixes[i];
}

/** A step number with thousands separators; empty for "no step yet". */
export function formatStep(step: number | null | undefined): string {
  if (step === null || step === undefined) return '';
  return step.toLocaleString('en-US');
}
