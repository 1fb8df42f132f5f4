// A whole GRPO step on one page: 64 prompts × 16 samples of ~5 KB reasoning
// traces. The server sends previews (no messages) for up to 1,000 rows, the
// table draws only the rows in view, opening a row fetches it whole, and
// the columns resize and wrap.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, urlOf, useBrowser, waitForUrl } from './browser';

const s = useBrowser();
const PROMPTS = 64;
const SAMPLES = 16;

function sample(p: number, k: number) {
  const think = Array.from({ length: 30 }, (_, i) => `Step ${i}: try $x = \\frac{${p + i}}{${k + 2}}$ and check that it holds for every case we know of.`).join('\n\n');
  const prompt = `Problem ${p}: a long word problem about ${p} apples shared between ${k + 2} friends, asked so that it runs well past one table line: how many does each get, and what is left over at the end? Put the answer in \\boxed{}.`;
  return {
    step: 7,
    mode: 'train',
    promptText: prompt,
    messages: [
      { role: 'user', content: prompt },
      { role: 'assistant', content: `<think>\n${think}\n</think>\n\nEach gets $${p}$, so the answer is $\\boxed{${p * 100 + k}}$.` },
    ],
    rewards: { correctness: k % 2, format: 1 },
  };
}

describe('a whole step on one page', () => {
  test('previews from the server, rows drawn as they come into view, resizable and wrapping columns', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'whole-step' });
    const all = [];
    for (let p = 0; p < PROMPTS; p++) for (let k = 0; k < SAMPLES; k++) all.push(sample(p, k));
    const ids: number[] = [];
    for (let i = 0; i < all.length; i += 256) {
      const r = await apiFetch<{ ids: number[] }>('POST', `/api/experiments/${id}/rollouts`, { rollouts: all.slice(i, i + 256) });
      ids.push(...r.ids);
    }
    const fullLen = all[0].messages[1].content.length;

    const { page } = s;
    await page.setViewportSize({ width: 1280, height: 800 });
    const listed = page.waitForResponse((r) => r.url().includes(`/api/experiments/${id}/rollouts?`) && r.url().includes('view=preview'));
    await page.goto(`/experiments/${id}?tab=rollouts&step=7&mode=train`);
    const res = await listed;
    const body = await res.text();
    const json = JSON.parse(body) as { rollouts: { messages: unknown[]; preview?: { answer: string; boxed: string; chars: number } }[]; more: boolean };
    expect(json.rollouts.length).toBe(1000);
    expect(json.more).toBe(true);
    expect(json.rollouts.every((r) => r.messages.length === 0 && r.preview !== undefined)).toBe(true);
    expect(json.rollouts[0].preview).toEqual({ answer: 'Each gets $0$, so the answer is $\\boxed{0}$.', boxed: '0', chars: fullLen, messages: 2 });
    // A fifth of the messages' size, prompts included.
    expect(body.length).toBeLessThan((all.length * fullLen) / 5);

    const table = page.locator(tid('rollout-table'));
    const rows = page.locator(tid('rollout-row'));
    await poll(() => rows.count()).toBeGreaterThan(20);
    expect(await table.getAttribute('data-virtual')).toMatch(/^0-\d+$/);
    expect(await rows.count()).toBeLessThan(200);
    expect(await rows.first().locator(tid('rollout-len')).innerText()).toBe(fullLen.toLocaleString('en-US'));
    expect(await rows.first().locator(tid('rollout-boxed')).innerText()).toBe('0');
    await screenshot(page, 'whole-step');

    // Scrolled to the end, the thousandth row is drawn and the first is not.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await poll(() => page.locator(`${tid('rollout-row')}[data-id="${ids[999]}"]`).count()).toBe(1);
    expect(await page.locator(`${tid('rollout-row')}[data-id="${ids[0]}"]`).count()).toBe(0);
    expect(await rows.count()).toBeLessThan(200);
    await page.locator(tid('load-more')).click();
    await poll(() => page.locator(`${tid('rollout-row')}[data-id="${ids[1023]}"]`).count()).toBe(1);

    // A rollout far from view opens from the URL: the table scrolls to its row, the chat view fetches it whole.
    await page.goto(`/experiments/${id}?tab=rollouts&step=7&mode=train&rollout=${ids[700]}`);
    const sel = page.locator(`${tid('rollout-row')}.selected`);
    await poll(() => sel.getAttribute('data-id')).toBe(String(ids[700]));
    const box = (await sel.boundingBox())!;
    expect(box.y).toBeGreaterThan(100); // below the sticky header
    expect(box.y).toBeLessThan(800);
    const chat = page.locator(tid('chat-view'));
    await poll(() => chat.getAttribute('data-id')).toBe(String(ids[700]));
    await poll(() => chat.locator(tid('reasoning')).locator('summary').innerText()).toMatch(/^Reasoning · \d,\d{3} chars/);
    // j walks on from there.
    await page.keyboard.press('j');
    await poll(() => urlOf(page).searchParams.get('rollout')).toBe(String(ids[701]));
    await poll(() => chat.getAttribute('data-id')).toBe(String(ids[701]));

    // Resize the prompt column; the width is kept across a reload.
    const th = page.locator('.rp-table th.rp-prompt-h');
    const w0 = (await th.boundingBox())!.width;
    const handle = page.locator(`${tid('col-resize')}[data-col="prompt"]`);
    const hb = (await handle.boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(hb.x + hb.width / 2 + 150, hb.y + hb.height / 2, { steps: 5 });
    await page.mouse.up();
    await poll(async () => Math.round((await th.boundingBox())!.width)).toBeGreaterThan(w0 + 100);
    const w1 = (await th.boundingBox())!.width;
    await page.reload();
    await poll(async () => Math.round((await page.locator('.rp-table th.rp-prompt-h').boundingBox())!.width)).toBe(Math.round(w1));

    // Wrap: the long prompts take several lines, every row is drawn, and the URL keeps it.
    const h1 = (await rows.first().boundingBox())!.height;
    await page.locator(tid('wrap-toggle')).check();
    await waitForUrl(page, (u) => u.searchParams.get('wrap') === '1');
    await poll(async () => (await rows.first().boundingBox())!.height).toBeGreaterThan(h1 * 1.8);
    expect(await table.getAttribute('data-virtual')).toBe(null);
    expect(await rows.count()).toBe(1000);
    await page.keyboard.press('w');
    await waitForUrl(page, (u) => u.searchParams.get('wrap') === null);
  });
});
