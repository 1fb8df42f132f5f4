// Which section a chart goes in, and the order of sections on the page.
import type { Metric } from '../api';

/** train first, eval second, then other modes alphabetically (DESIGN-NOTES "Mode"). */
export function compareModes(a: string, b: string): number {
  const rank = (m: string) => (m === 'train' ? 0 : m === 'eval' ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export interface Section<T> {
  mode: string;
  items: T[];
}

/** Group metrics by mode, sections and charts in a stable, readable order. */
export function sectionsOf<T extends Pick<Metric, 'mode' | 'name'>>(metrics: T[]): Section<T>[] {
  const by = new Map<string, T[]>();
  for (const m of metrics) {
    let list = by.get(m.mode);
    if (!list) by.set(m.mode, (list = []));
    list.push(m);
  }
  return [...by.keys()].sort(compareModes).map((mode) => ({
    mode,
    items: by.get(mode)!.slice().sort((a, b) => naturalCompare(a.name, b.name)),
  }));
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
/** layer2 before layer10, as a person sorts. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}

/**
 * Whether a chart name matches the search box: every space-separated word
 * must appear (case-insensitive), so "kl train" finds train/kl_div.
 */
export function matchesSearch(mode: string, name: string, search: string): boolean {
  const hay = `${mode}/${name}`.toLowerCase();
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}
