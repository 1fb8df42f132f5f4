// Placeholder until its page lands.
export function Compare(_: { ids: string[] }) {
  return <div class="page">Compare</div>;
}
