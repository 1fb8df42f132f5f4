// Search-hit highlighting that mirrors the server's full-text search: the
// query is split into whitespace-separated terms (quotes dropped), a term
// matches at the start of a word, and only a term ending in * may match a
// longer word. Hits are returned as parts or wrapped in <mark> elements built
// with the DOM, so plain text never passes through innerHTML.

export interface Term {
  text: string; // lower case
  prefix: boolean;
}

export interface Part {
  text: string;
  hit: boolean;
}

/** The terms of a search query, longest first so overlapping terms prefer the longer hit. */
export function searchTerms(q: string | null | undefined): Term[] {
  const out: Term[] = [];
  for (const raw of (q ?? '').split(/\s+/)) {
    const prefix = raw.endsWith('*');
    const text = raw.replace(/^["']+|["'*]+$/g, '').toLowerCase();
    if (!/[\p{L}\p{N}_]/u.test(text)) continue;
    out.push({ text, prefix });
  }
  return out.sort((a, b) => b.text.length - a.text.length);
}

const isWord = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);

/** Split text into runs, marking the hits of terms. */
export function highlightParts(text: string, terms: Term[]): Part[] {
  if (!terms.length || !text) return [{ text, hit: false }];
  const lower = text.toLowerCase();
  // Lower-casing can change length for a few scripts; then positions would
  // not line up, and an unhighlighted string beats a wrongly cut one.
  if (lower.length !== text.length) return [{ text, hit: false }];
  const parts: Part[] = [];
  let plain = 0;
  let i = 0;
  while (i < text.length) {
    let len = 0;
    if (!isWord(lower[i - 1]) && isWord(lower[i])) {
      for (const t of terms) {
        if (!lower.startsWith(t.text, i)) continue;
        let end = i + t.text.length;
        if (t.prefix) while (isWord(lower[end])) end++;
        else if (isWord(lower[end])) continue;
        len = end - i;
        break;
      }
    }
    if (len) {
      if (plain < i) parts.push({ text: text.slice(plain, i), hit: false });
      parts.push({ text: text.slice(i, i + len), hit: true });
      i += len;
      plain = i;
    } else {
      i++;
    }
  }
  if (plain < text.length) parts.push({ text: text.slice(plain), hit: false });
  return parts;
}

/** Wrap hits inside every text node under root in <mark>, leaving code and existing marks alone; returns the number of hits. */
export function markHits(root: Node, terms: Term[]): number {
  if (!terms.length) return 0;
  const doc = root.ownerDocument ?? (root as Document);
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if ((n.parentNode as Element | null)?.closest?.('mark')) continue;
    nodes.push(n as Text);
  }
  let hits = 0;
  for (const node of nodes) {
    const parts = highlightParts(node.data, terms);
    if (parts.length === 1 && !parts[0].hit) continue;
    const frag = doc.createDocumentFragment();
    for (const p of parts) {
      if (p.hit) {
        const m = doc.createElement('mark');
        m.textContent = p.text;
        frag.appendChild(m);
        hits++;
      } else {
        frag.appendChild(doc.createTextNode(p.text));
      }
    }
    node.parentNode!.replaceChild(frag, node);
  }
  return hits;
}
