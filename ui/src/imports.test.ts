// The UI's modules import each other without a cycle: a cycle makes module
// order matter (a value read before its module ran is undefined) and hides
// which module owns what. Type-only imports count too: they are the same
// dependency, written for the compiler.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]/g;

/** The source files that file imports, by relative specifier resolved to a file. */
export function importsOf(file: string, text: string, exists: (p: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const base = resolve(dirname(file), spec);
    const hit = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')].find(
      (p) => /\.tsx?$/.test(p) && exists(p),
    );
    if (hit) out.push(hit);
  }
  return out;
}

export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    path.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 1) return [...path.slice(path.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    path.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of [...graph.keys()].sort()) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

describe('imports', () => {
  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', []]]))).toBeNull();
  });

  it('reads every import form', () => {
    const files = new Set(['/s/a.ts', '/s/b.tsx', '/s/lib/c.ts', '/s/d.ts', '/s/e.ts']);
    const text = [
      "import { x } from './b';",
      "import type { Y } from './lib/c';",
      "export { z } from './d';",
      "import './e';",
      "const lazy = () => import('./b');",
      "import { skip } from 'preact';",
    ].join('\n');
    expect(importsOf('/s/a.ts', text, (p) => files.has(p))).toEqual(['/s/b.tsx', '/s/lib/c.ts', '/s/d.ts', '/s/e.ts', '/s/b.tsx']);
  });

  it('has no cycle in src', () => {
    const files = sources(SRC);
    const set = new Set(files);
    const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'), (p) => set.has(p))]));
    expect(graph.size).toBeGreaterThan(20);
    expect([...graph.values()].flat().length).toBeGreaterThan(40);
    const cycle = findCycle(graph);
    expect(cycle?.map((f) => relative(SRC, f)) ?? null).toBeNull();
  });
});
