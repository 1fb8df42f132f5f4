// Sanitized Markdown with search hits marked in the DOM afterwards. The
// element's children are owned here, not by Preact, so each change rebuilds
// them from the sanitized HTML and marks are never stacked.
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import { renderMarkdown } from '../lib/markdown';
import { markHits, type Term } from '../lib/highlight';

export function Markdown(props: { text: string; terms: Term[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const html = useMemo(() => renderMarkdown(props.text), [props.text]);
  const termsKey = JSON.stringify(props.terms);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.innerHTML = html; // sanitized by renderMarkdown
    markHits(el, props.terms);
  }, [html, termsKey]);
  return <div class="md" ref={ref} />;
}
