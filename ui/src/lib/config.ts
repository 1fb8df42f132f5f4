// Experiment configs are nested JSON; tables show them as dotted keys
// ("optimizer.lr", "layers.0.width") so they can be searched and compared.

function walk(v: unknown, prefix: string, out: [string, unknown][]): void {
  if (Array.isArray(v)) {
    // An empty container is still a value the user set: keep it as a leaf.
    if (v.length === 0 && prefix) out.push([prefix, v]);
    v.forEach((x, i) => walk(x, prefix ? `${prefix}.${i}` : String(i), out));
    return;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0 && prefix) out.push([prefix, v]);
    for (const k of keys) walk((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out);
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
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
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
