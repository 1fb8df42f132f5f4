// Placeholder until its page lands.
export function Experiments() {
  return <div class="page">Experiments</div>;
}
