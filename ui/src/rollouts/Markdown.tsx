// Sanitized Markdown with math typeset, code highlighted and search hits
// marked in the DOM afterwards. The
// element's children are owned here, not by Preact, so each change rebuilds
// them from the sanitized HTML and marks are never stacked.
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import { renderRich } from '../lib/markdown';
import { markHits, type Term } from '../lib/highlight';
import { typesetMath } from '../lib/math';
import { decorateCode } from '../lib/code';
import 'katex/dist/katex.min.css';
import 'highlight.js/styles/github.css';

export function Markdown(props: { text: string; terms: Term[]; class?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const rich = useMemo(() => renderRich(props.text), [props.text]);
  const termsKey = JSON.stringify(props.terms);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.innerHTML = rich.html; // sanitized by renderRich
    typesetMath(el, rich.math);
    decorateCode(el);
    markHits(el, props.terms);
  }, [rich, termsKey]);
  return <div class={'md' + (props.class ? ' ' + props.class : '')} ref={ref} />;
}
