// A line diff (longest common subsequence) for reading two rollouts side
// by side: what a later step, another run or the group's worst sample says
// differently. Quadratic, so bounded: past MAX_CELLS the texts are shown
// without a diff rather than freezing the tab.

export type DiffLine = { kind: 'same' | 'add' | 'del'; text: string };

const MAX_CELLS = 4_000_000;

/** The lines of a as del/same and of b as add/same, in order; null when too large to diff. */
export function diffLines(a: string, b: string): DiffLine[] | null {
  const x = a.split('\n');
  const y = b.split('\n');
  // Common head and tail cost nothing and shrink the table.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const n = xs.length;
  const m = ys.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return null;
  // lcs[i][j]: the LCS length of xs[i:] and ys[j:], in one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = xs[i] === ys[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out: DiffLine[] = x.slice(0, head).map((text) => ({ kind: 'same', text }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && xs[i] === ys[j]) {
      out.push({ kind: 'same', text: xs[i] });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
      out.push({ kind: 'del', text: xs[i++] }); // removed lines first, as diff -u shows them
    } else {
      out.push({ kind: 'add', text: ys[j++] });
    }
  }
  for (const text of x.slice(x.length - tail)) out.push({ kind: 'same', text });
  return out;
}

/** How many lines were added and removed. */
export function diffStats(d: DiffLine[]): { add: number; del: number } {
  let add = 0;
  let del = 0;
  for (const l of d) {
    if (l.kind === 'add') add++;
    else if (l.kind === 'del') del++;
  }
  return { add, del };
}
