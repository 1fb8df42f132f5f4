// Experiment configs are nested JSON; tables show them as dotted keys
// ("optimizer.lr", "layers.0.width") so they can be searched and compared.

/** How deep a config is shown; deeper values fold into one "…" leaf. A
 * config may be nested thousands deep (the server takes any JSON object), and
 * walking it recursively overflowed the stack and blanked the page. */
export const CONFIG_DEPTH = 32;

/** The leaf that stands for a value nested past CONFIG_DEPTH. */
export const FOLDED = Object.freeze({ folded: true });

function walk(v: unknown, prefix: string, out: [string, unknown][], depth = 0): void {
  if (depth >= CONFIG_DEPTH && v !== null && typeof v === 'object') {
    out.push([prefix, FOLDED]);
    return;
  }
  if (Array.isArray(v)) {
    // An empty container is still a value the user set: keep it as a leaf.
    if (v.length === 0 && prefix) out.push([prefix, v]);
    v.forEach((x, i) => walk(x, prefix ? `${prefix}.${i}` : String(i), out, depth + 1));
    return;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0 && prefix) out.push([prefix, v]);
    for (const k of keys) walk((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out, depth + 1);
    return;
  }
  if (prefix) out.push([prefix, v]);
}

/** Leaves of a nested config as [dotted key, value], in the config's own key order. */
export function flattenConfig(obj: unknown): [string, unknown][] {
  const out: [string, unknown][] = [];
  walk(obj, '', out);
  return out;
}

/** A config value as JSON text; undefined (key missing) prints as an empty string. */
export function configText(v: unknown): string {
  if (v === undefined) return '';
  if (v === FOLDED) return '…';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  // Learning rates read as written: 1e-6, not 0.000001 (JSON's spelling).
  if (typeof v === 'number' && v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e15)) return v.toExponential().replace('e+', 'e');
  return JSON.stringify(v);
}

/**
 * The keys whose values differ across configs (a key missing from some config
 * counts as different), each with one value per config (undefined when missing).
 * Keys keep first-seen order so related keys stay together.
 */
export function diffConfigs(configs: Record<string, unknown>[]): { key: string; values: unknown[] }[] {
  const flat = configs.map((c) => new Map(flattenConfig(c)));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const m of flat)
    for (const k of m.keys())
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
  const out: { key: string; values: unknown[] }[] = [];
  for (const key of keys) {
    const values = flat.map((m) => m.get(key));
    const present = flat.map((m) => m.has(key));
    const first = configText(values[0]);
    const differs = present.some((p) => !p) || values.some((v) => configText(v) !== first);
    if (differs) out.push({ key, values });
  }
  return out;
}
