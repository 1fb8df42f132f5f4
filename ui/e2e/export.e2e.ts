// Export: the experiment page's Export menu links to the server's streamed
// files, which the browser's session downloads: CSV with NaN kept, a
// whole Parquet file, rollouts with a column per reward.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, useBrowser } from './browser';

const s = useBrowser();

describe('export', () => {
  test('the Export menu downloads scalars and rollouts in each format', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'export-me' });
    const scalars = [0, 1, 2, 3].map((step) => ({ step, mode: 'train', name: 'loss', value: step === 2 ? 'NaN' : 1 / (step + 1) }));
    await apiFetch('POST', `/api/experiments/${id}/scalars`, { scalars });
    const answer = '<think>' + 'Consider $x^2$. '.repeat(400) + '</think> \\boxed{4}';
    await apiFetch('POST', `/api/experiments/${id}/rollouts`, {
      rollouts: [0, 1].map((i) => ({
        step: 1,
        mode: 'train',
        promptText: 'What is 2+2?',
        messages: [{ role: 'assistant', content: answer }],
        rewards: { correct: i, format: 1 },
      })),
    });
    const { page } = s;
    await page.goto(`/experiments/${id}`);
    const menu = page.locator(tid('export-menu'));
    await menu.locator('summary').click();
    const csv = menu.locator(tid('export-scalars-csv'));
    await poll(() => csv.isVisible()).toBe(true);
    await screenshot(page, 'export-menu');
    const hrefs = await menu.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual([
      `/api/experiments/${id}/export/scalars?format=parquet`,
      `/api/experiments/${id}/export/scalars?format=csv`,
      `/api/experiments/${id}/export/scalars?format=jsonl`,
      `/api/experiments/${id}/export/scalars?format=parquet&shape=wide`,
      `/api/experiments/${id}/export/scalars?format=csv&shape=wide`,
      `/api/experiments/${id}/export/scalars?format=jsonl&shape=wide`,
      `/api/experiments/${id}/export/rollouts?format=parquet`,
      `/api/experiments/${id}/export/rollouts?format=csv`,
      `/api/experiments/${id}/export/rollouts?format=jsonl`,
    ]);
    // The browser's session is what authenticates the downloads.
    const get = (href: string) =>
      page.evaluate(async (u) => {
        const r = await fetch(u, { credentials: 'same-origin' });
        const b = new Uint8Array(await r.arrayBuffer());
        return { status: r.status, disposition: r.headers.get('content-disposition'), text: new TextDecoder().decode(b), head: Array.from(b.slice(0, 4)), tail: Array.from(b.slice(-4)) };
      }, href);
    const long = await get(hrefs[1]!);
    expect(long.status).toBe(200);
    expect(long.disposition).toBe(`attachment; filename=${id}-scalars.csv`);
    expect(long.text.trim().split('\n')).toEqual([
      'experiment,step,mode,name,value,ts',
      ...[0, 1, 2, 3].map((st) => `${id},${st},train,loss,${st === 2 ? 'NaN' : 1 / (st + 1)},0`),
    ]);
    const pq = await get(hrefs[6]!);
    const magic = [0x50, 0x41, 0x52, 0x31]; // PAR1 at both ends: a whole file
    expect(pq.head).toEqual(magic);
    expect(pq.tail).toEqual(magic);
    const rows = (await get(hrefs[8]!)).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => [r['reward/correct'], r['reward/format'], JSON.parse(JSON.stringify(r.messages))[0].content.length])).toEqual([
      [0, 1, answer.length],
      [1, 1, answer.length],
    ]);
  });
});
