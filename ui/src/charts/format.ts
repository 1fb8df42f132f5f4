// Numbers on chart axes and in the hover read-out.

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A step: 12,345 in the read-out; 12.3k on a crowded axis. */
export function formatStep(v: number, compact: boolean): string {
  if (!compact || Math.abs(v) < 10_000) return grouped.format(v);
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [n, u] of units) if (Math.abs(v) >= n) return `${trim((v / n).toFixed(v % n === 0 ? 0 : 1))}${u}`;
  return grouped.format(v);
}

/**
 * A metric value with about four significant digits; exponents for the
 * very small and very large (learning rates, gradient norms), so 3e-6 does
 * not print as 0.000.
 */
export function formatValue(v: number | null | undefined, compact: boolean): string {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return trimExp(v.toExponential(compact ? 1 : 3));
  // toPrecision would print 1050 as "1.05e+3".
  if (a >= 1e3) return grouped.format(v);
  return trim(v.toPrecision(compact ? 3 : 4));
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

function trimExp(s: string): string {
  const [m, e] = s.split('e');
  return `${trim(m)}e${e.replace('+', '')}`;
}

export function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
