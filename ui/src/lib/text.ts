// User-supplied names (experiments, metrics, keys, rewards) are shown as
// text a reader can trust: bidirectional controls (U+202E turns
// "exp-1<RLO>txt.exe" around) and other invisible control characters are
// shown as visible codes instead of acting, and each name is isolated
// (<bdi>) so a right-to-left name cannot reorder the text around it.

// Bidi embeddings, overrides and isolates, marks, and C0/C1 controls.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** s with every invisible control character as a visible ⟨U+XXXX⟩. */
export function visibleText(s: string): string {
  return s.replace(INVISIBLE, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
}
