// System metrics (the SDK's CPU, memory and GPU samples, mode "system", one step per second) are
// charted against wall time without asking; the page's step axis leaves them alone.
import { describe, test } from 'vitest';
import type { Locator } from 'playwright-core';
import { apiFetch } from './env';
import { hoverReadout, tid, useBrowser } from './browser';

const s = useBrowser();

describe('system metrics', () => {
  test('the system section is on wall time while the rest is on steps', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'system-metrics' });
    const t0 = Math.floor(Date.now() / 1000) - 600;
    const scalars = [];
    for (let i = 0; i < 60; i++) {
      const ts = t0 + 10 * i;
      scalars.push({ step: ts, mode: 'system', name: 'gpu0/utilization_percent', value: 50 + (i % 7), ts });
      scalars.push({ step: i, mode: 'train', name: 'loss', value: 1 / (i + 1), ts: ts + 0.5 });
    }
    await apiFetch('POST', `/api/experiments/${id}/scalars`, { scalars });
    const { page } = s;
    await page.goto(`/experiments/${id}?tab=charts`);
    const hoverUntil = (chart: Locator, re: RegExp) => hoverReadout(page, chart, re);
    const gpu = page.locator(`${tid('chart-section')}[data-mode="system"] ${tid('chart')}`).first();
    await hoverUntil(gpu, new RegExp(`${new Date().getFullYear()}.*· step [\\d,]{13}`));
    const loss = page.locator(`${tid('chart-section')}[data-mode="train"] ${tid('chart')}`).first();
    await hoverUntil(loss, /^step \d+\s/);
  });
});
