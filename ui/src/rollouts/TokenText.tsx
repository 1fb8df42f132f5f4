// A message as its tokens, each coloured by the chosen per-token value,
// its values in a tooltip. Token text is rendered as text (never HTML).
import type { Tokens } from '../api';
import { tokenColour, type TokenScale } from '../lib/tokens';
import { fmtNum } from './format';

export function TokenText(p: { tokens: Tokens; by: string; scale: TokenScale | null }) {
  const vs = p.tokens.values[p.by];
  const names = Object.keys(p.tokens.values);
  return (
    <div class="rp-tokens mono" data-testid="token-text" data-by={p.by}>
      {p.tokens.text.map((t, i) => {
        const v = vs?.[i];
        const tip = [JSON.stringify(t), ...names.map((n) => `${n} ${fmtNum(p.tokens.values[n][i])}`)].join(' · ');
        return (
          <span
            key={i}
            data-testid="token"
            data-v={v === undefined ? undefined : String(v)}
            title={tip}
            style={v !== undefined && p.scale ? { background: tokenColour(v, p.scale) } : undefined}
          >
            {t}
          </span>
        );
      })}
    </div>
  );
}

/** The colour scale's legend: the value's name and its two ends. */
export function TokenLegend(p: { by: string; scale: TokenScale }) {
  const { lo, hi } = p.scale;
  const ends = p.scale.diverging ? [lo, 0, hi] : [lo, hi];
  const grad = p.scale.diverging
    ? 'linear-gradient(90deg, rgba(224,49,49,0.7), transparent, rgba(47,158,68,0.7))'
    : hi <= 0
      ? 'linear-gradient(90deg, rgba(224,49,49,0.7), transparent)'
      : 'linear-gradient(90deg, transparent, rgba(47,158,68,0.7))';
  return (
    <span class="rp-token-legend" data-testid="token-legend">
      <span class="muted">{p.by}</span>
      <span class="mono">{fmtNum(lo)}</span>
      <span class="rp-token-bar" style={{ background: grad }} />
      <span class="mono">{fmtNum(hi)}</span>
      {ends.length === 3 && <span class="muted">(0 plain)</span>}
    </span>
  );
}
