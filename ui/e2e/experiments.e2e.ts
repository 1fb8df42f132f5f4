// The experiments list (status, latest step, search, sort, delete), the
// experiment header (rename), the config tab, and compare.
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { apiFetch, env } from './env';
import { screenshot, tid, useBrowser, waitForUrl, poll } from './browser';

const s = useBrowser();
const row = (page: Page, id: string) => page.locator(`${tid('exp-row')}[data-id="${id}"]`);

/** The data-ids of the list's rows, in order. */
const rowIds = (page: Page) => page.locator(tid('exp-row')).evaluateAll((rs) => rs.map((r) => r.getAttribute('data-id') ?? ''));

describe('experiments list', () => {
  test('shows both runs with status and latest step', async () => {
    const { page } = s;
    const { grpo, baseline } = env().facts;
    await page.goto('/');
    await row(page, grpo.id).waitFor();
    await row(page, baseline.id).waitFor();
    const g = row(page, grpo.id);
    expect(await g.locator(tid('exp-link')).innerText()).toContain(grpo.name);
    expect((await g.locator(tid('exp-status')).innerText()).trim().toLowerCase()).toBe('active');
    expect((await g.locator(tid('exp-step')).innerText()).replace(/[,\s]/g, '')).toBe(String(grpo.latestStep));
    // Active and written to moments ago: live.
    expect(await g.locator(tid('live-badge')).count()).toBe(1);
    const b = row(page, baseline.id);
    expect((await b.locator(tid('exp-status')).innerText()).trim().toLowerCase()).toBe('complete');
    expect((await b.locator(tid('exp-step')).innerText()).replace(/[,\s]/g, '')).toBe(String(baseline.latestStep));
    expect(await b.locator(tid('live-badge')).count()).toBe(0);
    await screenshot(page, 'experiments-list');
  });

  test('search filters the rows and clearing it brings them back', async () => {
    const { page } = s;
    const { grpo, baseline } = env().facts;
    await page.locator(tid('exp-search')).fill('baseline');
    await poll(() => row(page, grpo.id).count()).toBe(0);
    expect(await row(page, baseline.id).count()).toBe(1);
    await page.locator(tid('exp-search')).fill('');
    await row(page, grpo.id).waitFor();
  });

  test('sorting by name orders the rows and a second click reverses them', async () => {
    const { page } = s;
    const { grpo, baseline } = env().facts;
    const ours = async () => (await rowIds(page)).filter((id) => id === grpo.id || id === baseline.id);
    await page.locator(tid('sort-name')).click();
    // e2e-baseline < e2e-grpo; whichever way the first click sorts, the second reverses it.
    await poll(ours).toHaveLength(2);
    await poll(async () => {
      const o = await ours();
      return o[0] === baseline.id || o[0] === grpo.id;
    }).toBe(true);
    const first = await ours();
    const byName = [baseline.id, grpo.id];
    expect([byName, [...byName].reverse()]).toContainEqual(first);
    await page.locator(tid('sort-name')).click();
    await poll(ours).toEqual([...first].reverse());
  });

  test('opening a run shows its name and status', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    await page.goto('/');
    await row(page, grpo.id).locator(tid('exp-link')).click();
    await waitForUrl(page, (u) => u.pathname === `/experiments/${grpo.id}`);
    await poll(() => page.locator(tid('exp-name')).innerText()).toContain(grpo.name);
    expect((await page.locator(tid('exp-status')).innerText()).trim().toLowerCase()).toContain('active');
    await page.locator(tid('tab-charts')).waitFor();
  });

  test('config tab: nested keys, search, copy as JSON', async () => {
    const { page, context } = s;
    const { grpo } = env().facts;
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.locator(tid('tab-config')).click();
    await waitForUrl(page, (u) => u.searchParams.get('tab') === 'config');
    const lora = page.locator(`${tid('config-row')}[data-key="model.lora.r"]`);
    await lora.waitFor();
    expect(await lora.innerText()).toContain('16');
    const all = await page.locator(tid('config-row')).count();
    expect(all).toBe(countLeaves(grpo.config));

    await page.locator(tid('config-search')).fill('lora');
    await poll(() => page.locator(tid('config-row')).count()).toBe(2);
    const keys = await page.locator(tid('config-row')).evaluateAll((rs) => rs.map((r) => r.getAttribute('data-key')));
    expect(keys.sort()).toEqual(['model.lora.alpha', 'model.lora.r']);
    await page.locator(tid('config-search')).fill('');
    await poll(() => page.locator(tid('config-row')).count()).toBe(all);

    await page.locator(tid('config-copy')).click();
    await poll(async () => {
        try {
          return JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
        } catch {
          return null;
        }
      })
      .toEqual(grpo.config);
  });

  test('rename: Esc cancels, Enter saves; delete removes the run', async () => {
    const { page } = s;
    const made = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'e2e-doomed', config: { a: 1 } });
    const id = made.experimentId;
    await page.goto(`/experiments/${id}`);
    await poll(() => page.locator(tid('exp-name')).innerText()).toContain('e2e-doomed');

    await page.locator(tid('exp-name')).click();
    const input = page.locator(tid('exp-name-input'));
    await input.waitFor();
    await input.fill('never saved');
    await input.press('Escape');
    await poll(() => page.locator(tid('exp-name-input')).count()).toBe(0);
    expect(await page.locator(tid('exp-name')).innerText()).toContain('e2e-doomed');

    await page.locator(tid('exp-name')).click();
    await page.locator(tid('exp-name-input')).fill('e2e-renamed');
    await page.locator(tid('exp-name-input')).press('Enter');
    await poll(() => page.locator(tid('exp-name')).innerText()).toContain('e2e-renamed');
    await poll(async () => (await apiFetch<{ name: string }>('GET', `/api/experiments/${id}`)).name).toBe('e2e-renamed');

    await page.goto('/');
    const r = row(page, id);
    await r.waitFor();
    expect(await r.locator(tid('exp-link')).innerText()).toContain('e2e-renamed');
    await r.locator(tid('exp-select')).check();
    await page.locator(tid('delete-selected')).click();
    // The page may ask to confirm in place (delete-confirm) before deleting.
    const yes = page.locator(tid('delete-confirm'));
    await poll(async () => (await yes.count()) > 0 || (await row(page, id).count()) === 0).toBe(true);
    if ((await yes.count()) > 0) await yes.click();
    await poll(() => row(page, id).count()).toBe(0);
    const res = await fetch(`${env().url}/api/experiments/${id}`, { headers: { Authorization: `Bearer ${env().apiKey}` } });
    expect(res.status).toBe(404);
    await row(page, env().facts.grpo.id).waitFor();
  });
});

describe('compare', () => {
  test('two runs: a legend entry each, overlaid charts, and only differing config keys', async () => {
    const { page } = s;
    const { grpo, baseline } = env().facts;
    await page.goto('/');
    await row(page, grpo.id).locator(tid('exp-select')).check();
    await row(page, baseline.id).locator(tid('exp-select')).check();
    await page.locator(tid('compare-selected')).click();
    await waitForUrl(page, (u) => u.pathname === '/compare');
    const ids = (new URL(page.url()).searchParams.get('ids') ?? '').split(',');
    expect(ids.sort()).toEqual([grpo.id, baseline.id].sort());

    const legend = page.locator(`${tid('compare-legend')} ${tid('legend-item')}`);
    await poll(() => legend.count()).toBe(2);
    const names = (await legend.allInnerTexts()).join(' ');
    expect(names).toContain(grpo.name);
    expect(names).toContain(baseline.name);
    // Each entry has its own colour swatch.
    const colours = await legend.evaluateAll((items) =>
      items.map((it) => {
        const sw = it.querySelector('[class*=swatch], span, i') as HTMLElement | null;
        const st = getComputedStyle(sw ?? it);
        return st.backgroundColor !== 'rgba(0, 0, 0, 0)' ? st.backgroundColor : st.borderColor || st.color;
      }),
    );
    expect(new Set(colours).size).toBe(2);

    // train/loss was logged by both runs, eval/accuracy by e2e-grpo only: the
    // first chart draws twice the series of the second, whatever a run's share is.
    const loss = page.locator(`${tid('chart')}[data-mode="train"][data-name$="loss"]`).first();
    const acc = page.locator(`${tid('chart')}[data-mode="eval"][data-name$="accuracy"]`).first();
    await loss.waitFor();
    await acc.waitFor();
    await poll(async () => Number(await acc.getAttribute('data-series'))).toBeGreaterThanOrEqual(1);
    const one = Number(await acc.getAttribute('data-series'));
    await poll(async () => Number(await loss.getAttribute('data-series'))).toBe(2 * one);

    // The legend hides a run from every chart, and shows it again; the URL keeps it.
    const toggle = page.locator(`${tid('legend-item')}[data-id="${baseline.id}"] ${tid('legend-toggle')}`);
    await toggle.click();
    await waitForUrl(page, (u) => u.searchParams.get('hide') === baseline.id);
    await poll(async () => Number(await loss.getAttribute('data-series'))).toBe(one);
    await toggle.click();
    await waitForUrl(page, (u) => !u.searchParams.get('hide'));
    await poll(async () => Number(await loss.getAttribute('data-series'))).toBe(2 * one);

    const diff = page.locator(`${tid('config-diff')} ${tid('diff-row')}`);
    await poll(() => diff.count()).toBe(baseline.differ.length);
    const keys = await diff.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-key')));
    expect(keys.sort()).toEqual([...baseline.differ].sort());
    const lr = page.locator(`${tid('diff-row')}[data-key="model.lora.r"]`);
    expect(await lr.innerText()).toMatch(/16[\s\S]*8|8[\s\S]*16/);
    await screenshot(page, 'compare');
  });
});

function countLeaves(v: unknown): number {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const vals = Object.values(v as Record<string, unknown>);
    return vals.length === 0 ? 1 : vals.reduce<number>((n, x) => n + countLeaves(x), 0);
  }
  return 1;
}
