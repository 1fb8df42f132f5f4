// Plain text with search hits in <mark>, built as JSX (never innerHTML).
import { highlightParts, type Term } from '../lib/highlight';

export function Highlighted(props: { text: string; terms: Term[] }) {
  if (!props.terms.length) return <>{props.text}</>;
  return (
    <>
      {highlightParts(props.text, props.terms).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : p.text))}
    </>
  );
}
