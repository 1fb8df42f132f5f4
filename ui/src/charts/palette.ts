// Tableau 10: ten hues picked to stay distinct from each other, on white and
// for the common colour-vision deficiencies, which is what comparing runs needs.
export const TABLEAU10 = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function color(i: number): string {
  return TABLEAU10[((i % TABLEAU10.length) + TABLEAU10.length) % TABLEAU10.length];
}

/** The colour with an alpha, for the faint raw line and the reward band. */
export function fade(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}
