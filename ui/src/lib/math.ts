// Math in model output: $…$, \(…\), $$…$$ and \[…\], typeset with KaTeX.
//
// The math is cut out of the text before Markdown (a placeholder of private
// use characters stands in for each span), so `x_1 * y_2` is never read as
// emphasis, and put back into the sanitized DOM as KaTeX's output, in text
// nodes only (never an attribute). KaTeX runs with trust off (no \href,
// \url, \htmlClass…), bounded sizes and expansions; a span it cannot parse
// is shown as its source, marked.
// KaTeX (a quarter megabyte) loads on the first math it meets, not with the app.
type Katex = typeof import('katex').default;
let katex: Katex | null = null;
let loading: Promise<Katex> | null = null;
function loadKatex(): Promise<Katex> {
  loading ??= import('katex').then((m) => (katex = m.default));
  return loading;
}

export interface MathSpan {
  tex: string;
  display: boolean;
}

const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

// Code (fenced, then inline) is kept verbatim; math is looked for between.
const CODE = /```[\s\S]*?(?:```|$)|`[^`\n]+`/g;
// Display first; inline $…$ needs a non-space after the opening and before
// the closing dollar, and no digit right after the closing one, so prices
// ("$5 and $10") stay text.
const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\d$])/g;

/** Cut the math out of src; each span becomes a placeholder in text. */
export function protectMath(src: string): { text: string; math: MathSpan[] } {
  const math: MathSpan[] = [];
  if (!src.includes('$') && !src.includes('\\')) return { text: src, math };
  let out = '';
  let last = 0;
  const mathIn = (s: string) =>
    s.replace(MATH, (_m, dd: string | undefined, db: string | undefined, ip: string | undefined, id: string | undefined) => {
      const display = dd !== undefined || db !== undefined;
      math.push({ tex: (dd ?? db ?? ip ?? id ?? '').trim(), display });
      return `${OPEN}${math.length - 1}${CLOSE}`;
    });
  for (const m of src.matchAll(CODE)) {
    out += mathIn(src.slice(last, m.index)) + m[0];
    last = m.index! + m[0].length;
  }
  out += mathIn(src.slice(last));
  return { text: out, math };
}

const rendered = new Map<string, string | null>();

/** KaTeX's HTML for one span; null when it does not parse. */
function katexHTML(k: Katex, s: MathSpan): string | null {
  const key = (s.display ? 'D' : 'I') + s.tex;
  if (rendered.has(key)) return rendered.get(key)!;
  let html: string | null;
  const katex = k;
  try {
    html = katex.renderToString(s.tex, {
      displayMode: s.display,
      throwOnError: true,
      trust: false,
      strict: 'ignore',
      output: 'html',
      maxSize: 20,
      maxExpand: 200,
    });
  } catch {
    html = null;
  }
  if (rendered.size > 2000) rendered.clear();
  rendered.set(key, html);
  return html;
}

/**
 * Replace the placeholders in el's text nodes with typeset math: at once when
 * KaTeX is loaded, else with the source for now and the math once it is.
 * Resolves when the math is in place.
 */
export function typesetMath(el: HTMLElement, math: MathSpan[]): Promise<void> {
  if (!math.length) return Promise.resolve();
  // Every span shows its source first; KaTeX then replaces them in document
  // order, a chunk at a time: a 30 KB trace holds hundreds of formulas, and
  // the top of it (what is on screen) must not wait for the bottom.
  place(el, math, null);
  const pending = Array.from(el.querySelectorAll<HTMLElement>('.math.pending'));
  const run = (k: Katex, from: number, done: () => void) => {
    const to = Math.min(pending.length, from + CHUNK);
    for (let i = from; i < to; i++) {
      const node = pending[i];
      const span = math[Number(node.dataset.i)];
      if (span && el.contains(node)) node.replaceWith(mathNode(span, k));
    }
    if (to < pending.length) setTimeout(() => run(k, to, done), 0);
    else done();
  };
  return new Promise((resolve) => {
    if (katex) run(katex, 0, resolve);
    else void loadKatex().then((k) => run(k, 0, resolve));
  });
}

/** Formulas typeset per slice of the main thread. */
const CHUNK = 40;

function place(el: HTMLElement, math: MathSpan[], k: Katex | null): void {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if ((n as Text).data.includes(OPEN)) nodes.push(n as Text);
  for (const node of nodes) {
    const frag = document.createDocumentFragment();
    let last = 0;
    const data = node.data;
    for (const m of data.matchAll(PLACEHOLDER)) {
      frag.append(data.slice(last, m.index));
      const span = math[Number(m[1])];
      if (span) frag.append(k ? mathNode(span, k) : pendingNode(span, Number(m[1])));
      last = m.index! + m[0].length;
    }
    frag.append(data.slice(last));
    node.replaceWith(frag);
  }
}

function pendingNode(s: MathSpan, i: number): Node {
  const span = document.createElement('span');
  span.className = 'math pending';
  span.dataset.i = String(i);
  span.textContent = s.display ? `$$${s.tex}$$` : `$${s.tex}$`;
  return span;
}

function mathNode(s: MathSpan, k: Katex): Node {
  const html = katexHTML(k, s);
  if (html === null) {
    // The source as the model wrote it, so the reader sees what did not parse.
    const code = document.createElement('code');
    code.className = 'math-error';
    code.title = 'KaTeX could not parse this';
    code.textContent = s.display ? `$$${s.tex}$$` : `$${s.tex}$`;
    return code;
  }
  const t = document.createElement('template');
  t.innerHTML = html; // KaTeX's own output, trust off: no links, no user markup
  const wrap = document.createElement(s.display ? 'div' : 'span');
  wrap.className = s.display ? 'math display' : 'math';
  wrap.dataset.tex = s.tex;
  wrap.append(t.content);
  return wrap;
}
