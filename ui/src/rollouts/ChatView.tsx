// The detail pane: one rollout as a conversation, with its rewards as
// chips, the prompt's timeline across steps, and the raw JSON on demand.
import { useState } from 'preact/hooks';
import type { Message, Rollout } from '../api';
import type { Term } from '../lib/highlight';
import { ChatMessage } from './ChatMessage';
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
}

export function ChatView(p: Props) {
  const [raw, setRaw] = useState(false);
  const r = p.rollout;
  if (!r) {
    return (
      <section class="rp-chat empty" data-testid="chat-view">
        {p.error ? <span class="error">{p.error}</span> : p.loading ? 'Loading…' : 'Select a rollout (j/k to move, Enter to open).'}
      </section>
    );
  }
  const prompt: Message = r.prompt ?? { role: 'user', content: r.promptText };
  // Many trainers log the whole conversation, prompt included: show it once.
  const first = r.messages[0];
  const promptRepeated = !!first && typeof first === 'object' && first.role === prompt.role && first.content === prompt.content;
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
        <div class="rp-chips">
          {r.rewards.map((w) => (
            <span key={w.name} class={'rp-chip' + (Number.isNaN(w.value) ? ' nan' : '')} data-name={w.name}>
              <span class="muted">{w.name}</span> <span class="mono">{fmtNum(w.value)}</span>
            </span>
          ))}
        </div>
      </header>
      {p.timeline && <Timeline experimentId={p.experimentId} rollout={r} onOpen={p.onOpen} />}
      {raw ? (
        <pre class="rp-raw mono">{JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}</pre>
      ) : (
        <div class="rp-messages">
          {!promptRepeated && <ChatMessage key={`${r.id}:prompt`} message={prompt} terms={p.terms} label="prompt" />}
          {r.messages.map((m, i) => (
            <ChatMessage key={`${r.id}:${i}`} message={m} terms={p.terms} label={promptRepeated && i === 0 ? 'prompt' : undefined} />
          ))}
        </div>
      )}
    </section>
  );
}
