// The run table: runs of one name told apart by a config filter, the last
// value of metrics picked as columns, a status filter and duration; all of it
// kept in the URL.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, useBrowser } from './browser';

const s = useBrowser();
const stamp = Date.now();

async function run(project: string, lr: number, losses: number[], status?: string): Promise<string> {
  const { experimentId } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', {
    name: 'grpo-sweep',
    project,
    config: { lr, optim: { name: 'adamw' } },
  });
  await apiFetch('POST', `/api/experiments/${experimentId}/scalars`, {
    scalars: losses.map((v, step) => ({ step, mode: 'train', name: 'loss', value: v })),
  });
  if (status) await apiFetch('PUT', `/api/experiments/${experimentId}`, { status });
  return experimentId;
}

describe('run table', () => {
  test('config filter, metric columns and status filter tell same-named runs apart', async () => {
    const project = `sweep-${stamp}`;
    const small = await run(project, 3e-6, [0.9, 0.4, 0.25]);
    const big = await run(project, 1e-5, [0.9, 0.7, 0.5], 'failed');
    const { projects } = await apiFetch<{ projects: { id: number; name: string }[] }>('GET', '/api/projects');
    const id = projects.find((p) => p.name === project)!.id;

    const { page } = s;
    await page.goto(`/?project=${id}`);
    await poll(() => page.locator(tid('exp-row')).count()).toBe(2);

    await page.locator(tid('metric-columns')).fill('train/loss');
    await page.locator(tid('metric-columns')).press('Enter');
    const cell = (exp: string) => page.locator(`${tid('exp-row')}[data-id="${exp}"] ${tid('exp-metric')}`);
    await poll(() => cell(small).innerText()).toBe('0.25');
    expect(await cell(big).innerText()).toBe('0.5');

    await page.locator(tid('config-filter')).fill('lr=3e-6');
    await page.locator(tid('config-filter')).press('Enter');
    await poll(() => page.locator(tid('exp-row')).count()).toBe(1);
    expect(await page.locator(tid('exp-row')).getAttribute('data-id')).toBe(small);
    const url = new URL(page.url());
    expect(url.searchParams.get('config')).toBe('lr=3e-6');
    expect(url.searchParams.get('cols')).toBe('train/loss');
    await screenshot(page, 'run-table');

    await page.locator(tid('config-filter')).fill('');
    await page.locator(tid('config-filter')).press('Enter');
    await page.locator(tid('status-filter')).selectOption('failed');
    await poll(async () => {
      const rows = page.locator(tid('exp-row'));
      return (await rows.count()) === 1 ? rows.getAttribute('data-id') : null;
    }).toBe(big);
    expect(await page.locator(tid('exp-status')).innerText()).toBe('failed');
    expect(await page.locator(tid('exp-duration')).innerText()).toMatch(/^\d+s$/);
  });
});
