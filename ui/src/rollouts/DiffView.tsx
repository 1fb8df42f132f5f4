// Two rollouts side by side: the same prompt at two steps, or a group's
// best sample against its worst. Each column is the conversation as
// logged; above them, the rewards with their difference and a line diff
// of the final assistant messages.
import { useMemo, useState } from 'preact/hooks';
import type { Message, Rollout } from '../api';
import { diffLines, diffStats } from '../lib/diff';
import type { Term } from '../lib/highlight';
import { ChatMessage } from './ChatMessage';
import { inLoggedOrder } from './ChatView';
import { contentText, fmtNum, rewardNames, rewardOf } from './format';

interface Props {
  left: Rollout;
  right: Rollout | null;
  loading: boolean;
  error: string | null;
  terms: Term[];
  onClose: () => void;
  onSwap: () => void;
}

/** The text of the last assistant message, reasoning included: what the model said. */
function lastAnswer(r: Rollout): string {
  for (let i = r.messages.length - 1; i >= 0; i--) {
    const m = r.messages[i];
    if (m && typeof m === 'object' && m.role === 'assistant') return contentText(m);
  }
  return '';
}

export function DiffView(p: Props) {
  const [lines, setLines] = useState(true);
  const a = p.left;
  const b = p.right;
  const diff = useMemo(() => (b ? diffLines(lastAnswer(a), lastAnswer(b)) : null), [a, b]);
  const names = rewardNames(b ? [a, b] : [a]);
  const column = (r: Rollout) => {
    const prompt: Message = r.prompt ?? { role: 'user', content: r.promptText };
    const { messages, promptAt } = inLoggedOrder(prompt, r.messages);
    return (
      <div class="rp-diff-col" data-testid="diff-column" data-id={r.id}>
        <div class="rp-diff-col-head">
          <strong>Rollout {r.id}</strong> <span class="muted">step {r.step} · {r.mode}</span>
        </div>
        {messages.map((m, i) => (
          <ChatMessage key={`${r.id}:${i}`} message={m} terms={p.terms} label={i === promptAt ? 'prompt' : undefined} />
        ))}
      </div>
    );
  };
  const stats = diff ? diffStats(diff) : null;
  return (
    <section class="rp-chat rp-diff" data-testid="diff-view" data-left={a.id} data-right={b?.id ?? ''}>
      <header class="rp-chat-head">
        <div class="rp-chat-title">
          <strong>
            {a.id} ↔ {b ? b.id : '…'}
          </strong>
          <span class="muted">{b && a.promptText === b.promptText ? 'the same prompt' : 'different prompts'}</span>
          <span class="spacer" />
          <button data-testid="diff-lines" class={lines ? 'on' : ''} aria-pressed={lines} onClick={() => setLines(!lines)}>
            Line diff
          </button>
          <button data-testid="diff-swap" onClick={p.onSwap} title="Swap the two sides">
            ⇄ Swap
          </button>
          <button data-testid="diff-close" onClick={p.onClose} title="Back to one rollout (Esc)">
            ✕ Close
          </button>
        </div>
        {b && (
          <table class="grid rp-diff-rewards" data-testid="diff-rewards">
            <thead>
              <tr>
                <th>reward</th>
                <th class="num">{a.id}</th>
                <th class="num">{b.id}</th>
                <th class="num">Δ</th>
              </tr>
            </thead>
            <tbody>
              {names.map((n) => {
                const x = rewardOf(a, n);
                const y = rewardOf(b, n);
                const d = x !== undefined && y !== undefined ? y - x : NaN;
                return (
                  <tr key={n} data-name={n}>
                    <td class="muted">{n}</td>
                    <td class="num mono">{fmtNum(x)}</td>
                    <td class="num mono">{fmtNum(y)}</td>
                    <td class={'num mono ' + (d > 0 ? 'pos' : d < 0 ? 'neg' : '')} data-testid="diff-delta">
                      {Number.isNaN(d) ? '' : (d > 0 ? '+' : '') + fmtNum(d)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </header>
      {p.error && <div class="error">{p.error}</div>}
      {!b && !p.error && <div class="muted">{p.loading ? 'Loading…' : ''}</div>}
      {b && lines && (
        <div class="rp-linediff mono" data-testid="line-diff">
          {diff === null ? (
            <div class="muted">These answers are too long to diff line by line; read them side by side below.</div>
          ) : (
            <>
              <div class="muted" data-testid="diff-stats">
                final answers: +{stats!.add} −{stats!.del} lines
              </div>
              {diff.map((l, i) => (
                <div key={i} class={'rp-dl ' + l.kind} data-testid="diff-line" data-kind={l.kind}>
                  <span class="rp-dl-mark">{l.kind === 'add' ? '+' : l.kind === 'del' ? '−' : ' '}</span>
                  {l.text}
                </div>
              ))}
            </>
          )}
        </div>
      )}
      {b && (
        <div class="rp-diff-cols">
          {column(a)}
          {column(b)}
        </div>
      )}
    </section>
  );
}
