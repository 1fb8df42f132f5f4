// An experiment's config as a flat, searchable table of dotted keys.
// Values are shown as JSON text (Preact escapes it), never as markup.
import { useMemo, useState } from 'preact/hooks';
import { configText, flattenConfig } from '../lib/config';
import './config.css';

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function ConfigTable({ config }: { config: Record<string, unknown> }) {
  const [search, setSearch] = useState('');
  const [copied, setCopied] = useState(false);
  const rows = useMemo(() => flattenConfig(config ?? {}).map(([k, v]) => ({ key: k, value: v, text: configText(v) })), [config]);
  const needle = search.trim().toLowerCase();
  const shown = needle ? rows.filter((r) => r.key.toLowerCase().includes(needle) || r.text.toLowerCase().includes(needle)) : rows;

  async function copy() {
    try {
      await navigator.clipboard.writeText(JSON.stringify(config ?? {}, null, 2));
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  }

  if (rows.length === 0) {
    return (
      <div class="empty config-empty">
        No config logged. Pass <code>config={'{...}'}</code> to <code>expt_logger.init</code> to record hyperparameters.
      </div>
    );
  }

  return (
    <div class="config">
      <div class="toolbar">
        <input
          type="search"
          class="config-search"
          placeholder="Filter keys or values…"
          data-testid="config-search"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <span class="muted">
          {needle ? `${shown.length} of ${rows.length}` : rows.length} key{rows.length === 1 ? '' : 's'}
        </span>
        <span class="spacer" />
        <button data-testid="config-copy" onClick={copy}>
          {copied ? 'Copied' : 'Copy as JSON'}
        </button>
      </div>
      <div class="config-wrap">
        <table class="grid config-table" data-testid="config-table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => {
              const dot = r.key.lastIndexOf('.');
              return (
                <tr key={r.key} data-testid="config-row" data-key={r.key}>
                  <td class="config-key mono">
                    {dot >= 0 && <span class="config-key-path">{r.key.slice(0, dot + 1)}</span>}
                    {r.key.slice(dot + 1)}
                  </td>
                  <td class={`config-value mono v-${kind(r.value)}`}>{r.text}</td>
                </tr>
              );
            })}
            {shown.length === 0 && (
              <tr>
                <td colSpan={2} class="empty">
                  Nothing matches “{search}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
