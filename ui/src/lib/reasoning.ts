// Reasoning traces in model output. RL-trained models write their thinking
// between tags (<think>…</think>, also <thinking>, <reasoning>) and then the
// answer; chat templates often open the tag in the prompt, so the output
// holds only the closing one; a trace cut at the length limit holds only the
// opening one. The reader wants the answer first and the trace folded.

const DEFAULT_TAGS = ['think', 'thinking', 'reasoning'];
const STORAGE_KEY = 'expt.reasoningTags';

/** The tags read as reasoning: the defaults, or a comma-separated list kept in localStorage. */
export function reasoningTags(): string[] {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v) {
      const tags = v
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter((t) => /^[a-z][a-z0-9_-]*$/.test(t));
      if (tags.length) return tags;
    }
  } catch {
    // no storage (private mode): the defaults
  }
  return DEFAULT_TAGS;
}

/** The query that asks the server for previews read with these tags (the defaults are its own). */
export function previewQuery(): { view: 'preview'; reasoningTags?: string } {
  const tags = reasoningTags();
  return tags.join(',') === DEFAULT_TAGS.join(',') ? { view: 'preview' } : { view: 'preview', reasoningTags: tags.join(',') };
}

export function setReasoningTags(tags: string[]): void {
  localStorage.setItem(STORAGE_KEY, tags.join(','));
}

export interface Split {
  /** The reasoning sections, in order, without their tags. */
  reasoning: string[];
  /** Everything else: the text with the reasoning taken out. */
  answer: string;
  /** The trace was cut before its closing tag (the answer is then empty). */
  truncated: boolean;
}

const cache = new Map<string, Split>();

/** Split text into reasoning sections and the rest. */
export function splitReasoning(text: string, tags: string[] = reasoningTags()): Split {
  const key = tags.join(',') + '\u0000' + text;
  const hit = cache.get(key);
  if (hit) return hit;
  const out = split(text, tags);
  if (cache.size > 500) cache.clear();
  cache.set(key, out);
  return out;
}

function split(text: string, tags: string[]): Split {
  const alt = tags.map((t) => t.replace(/[^a-z0-9_-]/gi, '')).join('|');
  const reasoning: string[] = [];
  let truncated = false;
  let rest = text;
  // Only a closing tag, before any opening one: the template opened it in the prompt.
  const open = new RegExp(`<(${alt})\\s*>`, 'i');
  const close = new RegExp(`</(${alt})\\s*>`, 'i');
  const firstClose = close.exec(rest);
  const firstOpen = open.exec(rest);
  if (firstClose && (!firstOpen || firstClose.index < firstOpen.index)) {
    reasoning.push(rest.slice(0, firstClose.index));
    rest = rest.slice(firstClose.index + firstClose[0].length);
  }
  const pair = new RegExp(`<(${alt})\\s*>([\\s\\S]*?)</\\1\\s*>`, 'gi');
  rest = rest.replace(pair, (_m, _tag, body: string) => {
    reasoning.push(body);
    return '';
  });
  const dangling = open.exec(rest);
  if (dangling) {
    reasoning.push(rest.slice(dangling.index + dangling[0].length));
    rest = rest.slice(0, dangling.index);
    truncated = true;
  }
  return { reasoning: reasoning.map((r) => r.trim()).filter(Boolean), answer: rest.trim(), truncated };
}

/**
 * The final answer of a response: what <answer>…</answer> holds, else the
 * text after the reasoning.
 */
export function finalAnswer(text: string): string {
  const { answer } = splitReasoning(text);
  const tagged = /<answer>([\s\S]*?)<\/answer>/i.exec(answer);
  return (tagged ? tagged[1] : answer).trim();
}

/** The content of the last \boxed{…} (braces balanced), or '' when there is none. */
export function boxed(text: string): string {
  const i = text.lastIndexOf('\\boxed{');
  if (i < 0) return '';
  let depth = 0;
  for (let j = i + 6; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(i + 7, j).trim();
  }
  return ''; // unbalanced: cut off
}
