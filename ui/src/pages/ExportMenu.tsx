// Download an experiment's data: its scalars (long or wide) and rollouts as
// Parquet, CSV or JSON Lines, streamed by the server (the session cookie
// authenticates the download), with the notebook equivalent beside them.
const FORMATS = [
  ['parquet', 'Parquet'],
  ['csv', 'CSV'],
  ['jsonl', 'JSON Lines'],
] as const;

export function ExportMenu({ experimentId }: { experimentId: string }) {
  const base = `/api/experiments/${encodeURIComponent(experimentId)}/export`;
  const link = (kind: 'scalars' | 'rollouts', format: string, wide = false) => (
    <a
      key={kind + format + wide}
      href={`${base}/${kind}?format=${format}${wide ? '&shape=wide' : ''}`}
      download
      data-testid={`export-${kind}-${format}${wide ? '-wide' : ''}`}
    >
      {FORMATS.find((f) => f[0] === format)?.[1]}
    </a>
  );
  return (
    <details class="export-menu" data-testid="export-menu">
      <summary>Export</summary>
      <div class="export-pop">
        <div>
          <span class="muted">Metrics, a row per point</span> {FORMATS.map(([f]) => link('scalars', f))}
        </div>
        <div>
          <span class="muted">Metrics, a row per step</span> {FORMATS.map(([f]) => link('scalars', f, true))}
        </div>
        <div>
          <span class="muted">Rollouts</span> {FORMATS.map(([f]) => link('rollouts', f))}
        </div>
        <div class="muted export-hint">
          In a notebook: <code>expt_logger.Api().experiment("{experimentId}").history(format="pandas")</code>; from a
          shell: <code>expt export {experimentId}</code>
        </div>
      </div>
    </details>
  );
}
