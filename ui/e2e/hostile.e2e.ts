// Names and configs are the user's own input: a name must not be able to
// spoof another with bidirectional controls, a config nested thousands deep
// (which the server accepts) must not blank the pages that show it, and the
// experiments list must not download every config in full.
import { describe, expect, test } from 'vitest';
import { apiFetch, env } from './env';
import { poll, tid, useBrowser } from './browser';

const s = useBrowser();

async function create(name: string, config: unknown): Promise<string> {
  const id = crypto.randomUUID();
  await apiFetch('POST', '/api/experiments', { id, name, config });
  return id;
}

/** Creates an experiment whose config nests depth deep; the JSON is written by
 * hand, as JSON.stringify itself overflows on it. */
async function createDeep(name: string, depth: number): Promise<string> {
  const id = crypto.randomUUID();
  const config = '{"lr":3e-6,"deep":' + '{"d":'.repeat(depth) + '"bottom"' + '}'.repeat(depth) + '}';
  const res = await fetch(`${env().url}/api/experiments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env().apiKey}`, 'Content-Type': 'application/json' },
    body: `{"id":"${id}","name":${JSON.stringify(name)},"config":${config}}`,
  });
  expect(res.status, await res.text()).toBe(200);
  return id;
}

describe('hostile names and configs', () => {
  test('a bidi override in a name is shown as a code and isolated', async () => {
    const { page } = s;
    const id = await create('invoice\u202Etxt.exe', {});
    await page.goto('/');
    const row = page.locator(`${tid('exp-row')}[data-id="${id}"]`);
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toContain('invoice⟨U+202E⟩txt.exe');
    expect(text).not.toContain('\u202E');
    expect(await row.locator('bdi').count()).toBeGreaterThan(0);
    await page.goto(`/experiments/${id}`);
    await poll(() => page.locator('main').innerText()).toContain('invoice⟨U+202E⟩txt.exe');
    expect(await page.title()).not.toContain('\u202E');
  });

  test('a 9,990-deep config folds instead of blanking the config and compare pages', async () => {
    const { page } = s;
    const deep = await createDeep('deep config', 9990);
    const other = await create('shallow config', { lr: 1e-5 });
    await page.goto(`/experiments/${deep}?tab=config`);
    await page.locator(`${tid('config-row')}[data-key="lr"]`).waitFor();
    const rows = page.locator(tid('config-row'));
    expect(await rows.count()).toBe(2);
    await poll(() => page.locator('main').innerText()).toContain('…');
    await page.goto(`/compare?ids=${deep},${other}`);
    await page.locator(tid('config-diff')).waitFor();
    await poll(() => page.locator(tid('config-diff')).innerText()).toContain('…');
  });

  test('the experiments list leaves configs out', async () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) big[`key${i}`] = 'x'.repeat(1000); // a 2 MB config
    const id = await create('big config', big);
    const res = await fetch(`${env().url}/api/experiments?limit=50`, { headers: { Authorization: `Bearer ${env().apiKey}` } });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).toContain(id);
    expect(body.length).toBeLessThan(100_000);
    const { page } = s;
    await page.goto('/');
    await page.locator(`${tid('exp-row')}[data-id="${id}"]`).waitFor();
  });
});

describe('labels', () => {
  test('tags, group and notes show on the list and the experiment page; the list filters by tag', async () => {
    const { page } = s;
    const id = crypto.randomUUID();
    await apiFetch('POST', '/api/experiments', { id, name: 'labelled run', tags: ['grpo', 'math'], group: 'job-7', notes: 'β sweep, run 3' });
    await page.goto('/');
    const row = page.locator(`${tid('exp-row')}[data-id="${id}"]`);
    await row.waitFor();
    expect(await row.locator(tid('exp-tag')).allInnerTexts()).toEqual(['grpo', 'math']);
    expect(await row.locator(tid('exp-group')).innerText()).toBe('job-7');
    await page.goto(`/experiments/${id}`);
    await poll(() => page.locator(tid('exp-notes')).innerText()).toBe('β sweep, run 3');
    const listed = await apiFetch<{ experiments: { id: string }[] }>('GET', '/api/experiments?tag=math');
    expect(listed.experiments.map((e) => e.id)).toEqual([id]);
  });
});
