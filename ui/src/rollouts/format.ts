// Formatting shared by the rollout table, groups, timeline and chat view.
import type { Message, Rollout } from '../api';
import { boxed, finalAnswer, splitReasoning } from '../lib/reasoning';

/** A reward or statistic: NaN stays visible as "NaN", never a blank or 0. */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '-∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  // Up to four significant digits, trailing zeros dropped.
  return String(Number(v.toPrecision(4)));
}

/** Collapse whitespace so a prompt fits one table line. */
export function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max) + '…' : t;
}

/** Message content as text (content may be a string, null, or a list of parts). */
export function contentText(m: Message): string {
  const c = m.content as unknown;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return c
      .map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** Drop the Markdown marks that clutter a one-line preview (bold, code, fences, headings); __ stays for dunder names. */
export function plainMarkdown(s: string): string {
  return s
    .replace(/```[^\n]*\n?/g, ' ')
    .replace(/\*\*|`/g, '')
    .replace(/^#{1,6}\s+/gm, '');
}

interface ToolCall {
  function?: { name?: string; arguments?: unknown };
}

/** The last assistant message, or a tool call summary when it only called tools. */
export function answerPreview(r: Rollout): string {
  if (r.preview) return r.preview.answer;
  for (let i = r.messages.length - 1; i >= 0; i--) {
    const m = r.messages[i];
    if (m.role !== 'assistant') continue;
    const full = contentText(m);
    // The answer, not the start of the reasoning before it.
    const text = finalAnswer(full);
    if (text.trim()) return oneLine(plainMarkdown(text), 200);
    const { reasoning, truncated } = splitReasoning(full);
    if (reasoning.length) return truncated ? '(reasoning cut off, no answer)' : '(reasoning only)';
    const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as ToolCall[]) : [];
    if (calls.length) return '→ ' + calls.map((c) => `${c.function?.name ?? 'tool'}()`).join(', ');
  }
  return '';
}

/** Reward names in first-seen order across the rows. */
export function rewardNames(rows: { rewards: { name: string }[] }[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const w of r.rewards) seen.add(w.name);
  return [...seen];
}

export function rewardOf(r: Rollout, name: string): number | undefined {
  return r.rewards.find((w) => w.name === name)?.value;
}

/** A short stable hash of a prompt (FNV-1a), for data-prompt-hash and keys. */
export function textHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The last \\boxed{} answer of the rollout's assistant messages, '' when none. */
export function boxedAnswer(r: Rollout): string {
  if (r.preview) return r.preview.boxed;
  for (let i = r.messages.length - 1; i >= 0; i--) {
    const m = r.messages[i];
    if (m.role !== 'assistant') continue;
    const b = boxed(contentText(m));
    if (b) return oneLine(b, 300);
  }
  return '';
}

/** Characters the model wrote: every assistant message, reasoning included. */
export function responseChars(r: Rollout): number {
  if (r.preview) return r.preview.chars;
  let n = 0;
  for (const m of r.messages) if (m && typeof m === 'object' && m.role === 'assistant') n += contentText(m).length;
  return n;
}

/** Reward weights from "correctness=1, format=0.2" (names as logged; bad parts are skipped). */
export function parseWeights(s: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of s.split(',')) {
    const i = part.lastIndexOf('=');
    if (i <= 0) continue;
    const w = Number(part.slice(i + 1).trim());
    if (Number.isFinite(w)) out.set(part.slice(0, i).trim(), w);
  }
  return out;
}

/** The weighted total of a rollout's finite rewards (weight 1 for a reward not named; NaN when none is finite). */
export function totalReward(r: { rewards: { name: string; value: number }[] }, weights: Map<string, number>): number {
  let t = 0;
  let any = false;
  for (const w of r.rewards) {
    if (!Number.isFinite(w.value)) continue;
    t += (weights.size ? (weights.get(w.name) ?? 0) : 1) * w.value;
    any = true;
  }
  return any ? t : NaN;
}
