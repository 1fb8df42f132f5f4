// Placeholder until its page lands.
export function Keys() {
  return <div class="page">Keys</div>;
}
