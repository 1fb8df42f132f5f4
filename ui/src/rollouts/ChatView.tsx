// The detail pane: one rollout as a conversation, with its rewards as
// chips, the prompt's timeline across steps, and the raw JSON on demand.
import { useState } from 'preact/hooks';
import type { Message, Rollout, Tokens } from '../api';
import type { Term } from '../lib/highlight';
import { tokenScale } from '../lib/tokens';
import { ChatMessage } from './ChatMessage';
import { TokenLegend } from './TokenText';
import { fmtNum } from './format';
import { Timeline } from './Timeline';

interface Props {
  experimentId: string;
  rollout: Rollout | null;
  loading: boolean;
  error: string | null;
  terms: Term[];
  timeline: boolean;
  onTimeline: (on: boolean) => void;
  onOpen: (r: Rollout) => void;
  /** Open r side by side with this rollout. */
  onDiff?: (r: Rollout) => void;
}

const TOKENS_KEY = 'expt.tokenColour';

export function ChatView(p: Props) {
  const [raw, setRaw] = useState(false);
  // The value tokens are coloured by: kept across rollouts; '' shows the text as Markdown.
  const [by, setBy] = useState(() => localStorage.getItem(TOKENS_KEY));
  const r = p.rollout;
  if (!r) {
    return (
      <section class="rp-chat empty" data-testid="chat-view">
        {p.error ? <span class="error">{p.error}</span> : p.loading ? 'Loading…' : 'Select a rollout (j/k to move, Enter to open).'}
      </section>
    );
  }
  const prompt: Message = r.prompt ?? { role: 'user', content: r.promptText };
  const { messages, promptAt } = inLoggedOrder(prompt, r.messages);
  // Tokens index the logged messages; the prompt may have been put among them.
  const inserted = messages.length !== r.messages.length;
  const tokensOf = new Map<number, Tokens>();
  for (const t of r.tokens ?? []) tokensOf.set(inserted && t.message >= promptAt ? t.message + 1 : t.message, t);
  const names = [...new Set((r.tokens ?? []).flatMap((t) => Object.keys(t.values)))];
  const colourBy = by !== null && (by === '' || names.includes(by)) ? by : (names[0] ?? '');
  const scale = colourBy ? tokenScale((r.tokens ?? []).flatMap((t) => t.values[colourBy] ?? [])) : null;
  return (
    <section class="rp-chat" data-testid="chat-view" data-id={r.id} tabIndex={-1}>
      <header class="rp-chat-head">
        <div class="rp-chat-title">
          <strong>Rollout {r.id}</strong>
          <span class="muted">
            step {r.step} · {r.mode}
            {r.clientId ? ` · ${r.clientId}` : ''}
          </span>
          <span class="spacer" />
          <button data-testid="prompt-timeline" class={p.timeline ? 'on' : ''} aria-pressed={p.timeline} onClick={() => p.onTimeline(!p.timeline)}>
            Prompt timeline
          </button>
          <button data-testid="raw-toggle" class={raw ? 'on' : ''} aria-pressed={raw} onClick={() => setRaw(!raw)}>
            Raw JSON
          </button>
        </div>
        {tokensOf.size > 0 && (
          <div class="rp-token-bar-row" data-testid="token-controls">
            <label>
              Colour tokens by{' '}
              <select
                data-testid="token-colour"
                value={colourBy}
                onChange={(e) => {
                  setBy(e.currentTarget.value);
                  localStorage.setItem(TOKENS_KEY, e.currentTarget.value);
                }}
              >
                <option value="">nothing (show the text)</option>
                {names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            {scale && <TokenLegend by={colourBy} scale={scale} />}
          </div>
        )}
        <div class="rp-chips">
          {r.group && (
            <span class="rp-chip" data-testid="rollout-group" title="The GRPO group id this rollout was logged with">
              <span class="muted">group</span> <span class="mono">{r.group}</span>
            </span>
          )}
          {r.rewards.map((w) => (
            <span key={w.name} class={'rp-chip' + (Number.isNaN(w.value) ? ' nan' : '')} data-name={w.name}>
              <span class="muted">{w.name}</span> <span class="mono">{fmtNum(w.value)}</span>
            </span>
          ))}
        </div>
        {r.metadata && Object.keys(r.metadata).length > 0 && <Metadata meta={r.metadata} />}
      </header>
      {p.timeline && <Timeline experimentId={p.experimentId} rollout={r} onOpen={p.onOpen} onDiff={p.onDiff} />}
      {raw ? (
        <pre class="rp-raw mono">{JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}</pre>
      ) : (
        <div class="rp-messages">
          {messages.map((m, i) => (
            <ChatMessage
              key={`${r.id}:${i}`}
              message={m}
              terms={p.terms}
              label={i === promptAt ? 'prompt' : undefined}
              tokens={colourBy ? tokensOf.get(i) : undefined}
              colourBy={colourBy}
              scale={scale}
            />
          ))}
        </div>
      )}
    </section>
  );
}

/** The rollout's metadata as logged: each top-level key with its value, nested values as compact JSON. */
function Metadata({ meta }: { meta: Record<string, unknown> }) {
  const [open, setOpen] = useState(false);
  const entries = Object.entries(meta);
  const shown = open ? entries : entries.slice(0, METADATA_SHOWN);
  return (
    <dl class="rp-meta" data-testid="rollout-metadata">
      {shown.map(([k, v]) => (
        <div key={k} class="rp-meta-item" data-key={k}>
          <dt class="muted">{k}</dt>
          <dd class="mono" title={metaText(v)}>
            {metaText(v)}
          </dd>
        </div>
      ))}
      {entries.length > METADATA_SHOWN && (
        <button class="rp-meta-more" data-testid="metadata-more" onClick={() => setOpen(!open)}>
          {open ? 'fewer' : `+${entries.length - METADATA_SHOWN} more`}
        </button>
      )}
    </dl>
  );
}

const METADATA_SHOWN = 12;

export function metaText(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * The conversation as it was logged, the prompt once: many trainers log the
 * whole conversation, prompt included (after a system message, say), and
 * then it is labelled where it stands; otherwise it goes after the leading
 * system messages, where a chat template puts it.
 */
export function inLoggedOrder(prompt: Message, logged: Message[]): { messages: Message[]; promptAt: number } {
  const same = (m: Message) => !!m && typeof m === 'object' && m.role === prompt.role && m.content === prompt.content;
  const at = logged.findIndex(same);
  if (at >= 0) return { messages: logged, promptAt: at };
  let lead = 0;
  while (lead < logged.length && logged[lead] && typeof logged[lead] === 'object' && logged[lead].role === 'system') lead++;
  return { messages: [...logged.slice(0, lead), prompt, ...logged.slice(lead)], promptAt: lead };
}
