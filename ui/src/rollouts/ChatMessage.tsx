// One chat message: role styling, Markdown content, tool calls as
// collapsible pretty JSON, tool results labelled with their call, unknown
// keys as a JSON footnote, and long content folded.
import type { Message } from '../api';
import { highlightParts, type Term } from '../lib/highlight';
import { contentText } from './format';
import { Highlighted } from './Highlighted';
import { Markdown } from './Markdown';
import { splitReasoning } from '../lib/reasoning';
import { addCopy, highlightInto } from '../lib/code';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Tokens } from '../api';
import type { TokenScale } from '../lib/tokens';
import { TokenText } from './TokenText';

const FOLD_CHARS = 1500;
const FOLD_LINES = 30;
const KNOWN = new Set(['role', 'content', 'tool_calls', 'name', 'tool_call_id']);

interface ToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
  [k: string]: unknown;
}

/** Tool arguments arrive as a JSON string; a model that wrote invalid JSON should be visible as such. */
function prettyArgs(args: unknown): { text: string; valid: boolean } {
  if (typeof args !== 'string') return { text: JSON.stringify(args ?? null, null, 2), valid: true };
  try {
    return { text: JSON.stringify(JSON.parse(args), null, 2), valid: true };
  } catch {
    return { text: args, valid: false };
  }
}

/** Arguments as an object, when they are one (a JSON string of an object, or an object). */
function argsObject(args: unknown): Record<string, unknown> | null {
  let v = args;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A string argument that holds code (several lines): shown as highlighted code with a copy button. */
function CodeArg(props: { name: string; text: string }) {
  const ref = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.textContent = props.text;
    const lang = /^(code|source|script|program|python|cmd|command)$/i.test(props.name) ? (/cmd|command/i.test(props.name) ? 'bash' : 'python') : undefined;
    highlightInto(el, lang);
    addCopy(el.parentElement as HTMLElement, () => props.text);
  }, [props.text, props.name]);
  return (
    <pre class="mono rp-code-arg">
      <code ref={ref} />
    </pre>
  );
}

function ToolCallView(props: { call: ToolCall; terms: Term[] }) {
  const c = props.call;
  const name = c.function?.name ?? c.type ?? 'tool call';
  const args = prettyArgs(c.function?.arguments);
  const obj = args.valid ? argsObject(c.function?.arguments) : null;
  const oneLiner = args.text.replace(/\s+/g, ' ');
  // Code-holding arguments open the call: the code is what the reader came for.
  const hasCode = obj !== null && Object.values(obj).some((v) => typeof v === 'string' && v.includes('\n'));
  return (
    <details class="rp-toolcall" data-testid="tool-call" open={hasCode}>
      <summary>
        <span class="rp-tool-name">{name}</span>
        <span class="rp-tool-args mono">({oneLiner.length > 80 ? oneLiner.slice(0, 80) + '…' : oneLiner})</span>
        {c.id && <span class="muted mono"> {c.id}</span>}
        {!args.valid && <span class="badge warn">invalid JSON</span>}
      </summary>
      {obj && hasCode ? (
        <div class="rp-tool-fields">
          {Object.entries(obj).map(([k, v]) => (
            <div key={k} class="rp-tool-field" data-testid="tool-arg" data-name={k}>
              <span class="mono rp-tool-key">{k}</span>
              {typeof v === 'string' && v.includes('\n') ? (
                <CodeArg name={k} text={v} />
              ) : (
                <code class="mono">
                  <Highlighted text={JSON.stringify(v)} terms={props.terms} />
                </code>
              )}
            </div>
          ))}
        </div>
      ) : (
        <pre class="mono">
          <Highlighted text={args.text} terms={props.terms} />
        </pre>
      )}
    </details>
  );
}

/** An assistant's reasoning, folded and dimmed; rendered only once opened (traces run to 30 KB). */
function Reasoning(props: { parts: string[]; truncated: boolean; terms: Term[]; open: boolean }) {
  const [open, setOpen] = useState(props.open);
  const text = props.parts.join('\n\n---\n\n');
  return (
    <details class="rp-reasoning" data-testid="reasoning" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        Reasoning · {text.length.toLocaleString('en-US')} chars
        {props.truncated && <span class="badge warn">cut off before its end</span>}
      </summary>
      {open && <Markdown text={text} terms={props.terms} class="rp-reasoning-body" />}
    </details>
  );
}

interface MessageProps {
  message: Message;
  terms: Term[];
  label?: string;
  /** The message's tokens, shown coloured by colourBy instead of its text. */
  tokens?: Tokens;
  colourBy?: string;
  scale?: TokenScale | null;
}

export function ChatMessage(props: MessageProps) {
  // The server keeps messages verbatim; one that is not an object is shown as it came.
  if (typeof props.message !== 'object' || props.message === null || Array.isArray(props.message)) {
    return (
      <div class="rp-msg role-other" data-testid="chat-message" data-role="unknown">
        <pre class="rp-extra mono">{JSON.stringify(props.message)}</pre>
      </div>
    );
  }
  return <ObjectMessage {...props} />;
}

function ObjectMessage(props: MessageProps) {
  const m = props.message;
  const role = typeof m.role === 'string' && m.role ? m.role : 'unknown';
  const full = contentText(m);
  // The answer first, the reasoning folded after it.
  const split = role === 'assistant' ? splitReasoning(full) : { reasoning: [], answer: full, truncated: false };
  const text = split.answer;
  const reasoningHit =
    props.terms.length > 0 && split.reasoning.some((r) => highlightParts(r, props.terms).some((p) => p.hit));
  const long = text.length > FOLD_CHARS || text.split('\n').length > FOLD_LINES;
  // A folded message with a search hit inside opens, so the hit is seen.
  const hasHit = props.terms.length > 0 && highlightParts(text, props.terms).some((p) => p.hit);
  const [open, setOpen] = useState<boolean | null>(null);
  const folded = long && !(open ?? hasHit);
  const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as ToolCall[]) : [];
  const extra = Object.fromEntries(Object.entries(m).filter(([k]) => !KNOWN.has(k)));
  if (typeof m.content !== 'string' && m.content != null && !text) extra.content = m.content;

  return (
    <div class={`rp-msg role-${['system', 'user', 'assistant', 'tool'].includes(role) ? role : 'other'}`} data-testid="chat-message" data-role={role}>
      <div class="rp-msg-head">
        <span class="rp-role">{role}</span>
        {props.label && <span class="badge">{props.label}</span>}
        {typeof m.name === 'string' && <span class="mono">{m.name}</span>}
        {typeof m.tool_call_id === 'string' && <span class="muted mono">↩ {m.tool_call_id}</span>}
        <span class="spacer" />
        {full && <span class="muted">{full.length.toLocaleString()} chars</span>}
      </div>
      {props.tokens && props.colourBy ? (
        <div class="rp-msg-body">
          <TokenText tokens={props.tokens} by={props.colourBy} scale={props.scale ?? null} />
        </div>
      ) : text && (
        <div class={'rp-msg-body' + (folded ? ' folded' : '')}>
          {role === 'tool' ? (
            <pre class="mono rp-tool-out">
              <Highlighted text={text} terms={props.terms} />
            </pre>
          ) : (
            <Markdown text={text} terms={props.terms} />
          )}
        </div>
      )}
      {long && !props.tokens && (
        <button class="link rp-fold" data-testid="fold-toggle" aria-expanded={!folded} onClick={() => setOpen(folded)}>
          {folded ? `Show all (${text.split('\n').length} lines, ${text.length.toLocaleString()} chars)` : 'Fold'}
        </button>
      )}
      {split.reasoning.length > 0 && !props.tokens && <Reasoning parts={split.reasoning} truncated={split.truncated} terms={props.terms} open={reasoningHit} />}
      {calls.map((c, i) => (
        <ToolCallView key={i} call={c} terms={props.terms} />
      ))}
      {!text && !calls.length && !split.reasoning.length && <div class="muted rp-empty-msg">(no content)</div>}
      {Object.keys(extra).length > 0 && <pre class="rp-extra mono">{JSON.stringify(extra, null, 1)}</pre>}
    </div>
  );
}
