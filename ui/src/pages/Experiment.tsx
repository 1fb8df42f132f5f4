// Placeholder until its page lands.
export function ExperimentPage(_: { id: string }) {
  return <div class="page">Experiment</div>;
}
