// The config table of the compare page: which keys differ between runs.
// (Lives beside the charts because the compare page is made of both.)

export const MISSING = Symbol('missing');

/**
 * Flatten nested objects into dotted keys: {optim: {lr: 1}} -> {"optim.lr": 1}.
 * Arrays and empty objects are values, not levels: a list of layer sizes
 * compares as one thing.
 */
export function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

/** The keys whose values differ across configs (a key missing from some counts), sorted. */
export function configDiff(configs: Record<string, unknown>[]): { key: string; values: unknown[] }[] {
  const flat = configs.map((c) => flatten(c));
  const keys = new Set<string>();
  for (const f of flat) for (const k of Object.keys(f)) keys.add(k);
  const rows: { key: string; values: unknown[] }[] = [];
  for (const key of [...keys].sort()) {
    const values = flat.map((f) => (key in f ? f[key] : MISSING));
    const canon = values.map((v) => (v === MISSING ? '\u0000missing' : JSON.stringify(v)));
    if (canon.some((c) => c !== canon[0])) rows.push({ key, values });
  }
  return rows;
}
