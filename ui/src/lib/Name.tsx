import { visibleText } from './text';

/** A user-supplied name, isolated for bidi and with its control characters shown. */
export function Name(props: { text: string; class?: string }) {
  return <bdi class={props.class}>{visibleText(props.text)}</bdi>;
}
