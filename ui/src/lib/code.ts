// Code blocks in model output: syntax highlighting (highlight.js, the core
// and the languages RL environments produce) and a copy button. Runs on the
// sanitized DOM; highlight.js reads textContent and writes escaped spans.
// highlight.js and its languages load with the first code block shown.
type HLJS = typeof import('highlight.js/lib/core').default;
let hljs: HLJS | null = null;
let loading: Promise<HLJS> | null = null;
function loadHljs(): Promise<HLJS> {
  loading ??= import('./hljs').then((m) => (hljs = m.default));
  return loading;
}

// Guessing the language is slow on long blocks; past this a block without a
// language tag stays plain.
const AUTO_MAX = 4000;
const AUTO = ['python', 'javascript', 'typescript', 'bash', 'cpp', 'json', 'go', 'rust', 'sql'];

/** Highlight one code element as language lang (or a guess when none), now or once loaded. */
export function highlightInto(code: HTMLElement, lang: string | undefined): void {
  if (hljs) highlightNow(hljs, code, lang);
  else void loadHljs().then((h) => code.isConnected && highlightNow(h, code, lang));
}

function highlightNow(hljs: HLJS, code: HTMLElement, lang: string | undefined): void {
  const text = code.textContent ?? '';
  let html: string | null = null;
  if (lang && hljs.getLanguage(lang)) html = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
  else if (!lang && text.length <= AUTO_MAX && text.includes('\n')) {
    const r = hljs.highlightAuto(text, AUTO);
    if (r.relevance >= 5) html = r.value;
  }
  if (html !== null) {
    code.innerHTML = html; // highlight.js escapes the text it wraps
    code.classList.add('hljs');
  }
}

/** Highlight every fenced block under el and give each a copy button. */
export function decorateCode(el: HTMLElement): void {
  const blocks = Array.from(el.querySelectorAll<HTMLElement>('pre > code'));
  // In slices, top first: a long trace holds dozens of blocks.
  const run = (from: number) => {
    const to = Math.min(blocks.length, from + CODE_CHUNK);
    for (let i = from; i < to; i++) {
      const code = blocks[i];
      if (!el.contains(code)) continue;
      const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1]?.toLowerCase();
      highlightInto(code, lang);
      addCopy(code.parentElement as HTMLElement, () => code.textContent ?? '');
    }
    if (to < blocks.length) setTimeout(() => run(to), 0);
  };
  run(0);
}

/** Code blocks highlighted per slice of the main thread. */
const CODE_CHUNK = 8;

/** A copy button in the corner of pre. */
export function addCopy(pre: HTMLElement, text: () => string): void {
  if (pre.querySelector(':scope > .copy-code')) return;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'copy-code';
  b.textContent = 'Copy';
  b.title = 'Copy to the clipboard';
  b.dataset.testid = 'copy-code';
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    navigator.clipboard?.writeText(text()).then(
      () => {
        b.textContent = 'Copied';
        setTimeout(() => (b.textContent = 'Copy'), 1500);
      },
      () => undefined,
    );
  });
  pre.classList.add('has-copy');
  pre.prepend(b);
}
