// The rollout browser: step and mode, full-text search with highlighted hits,
// reward filter and sort, groups with the zero-variance badge, the chat view
// (roles, tool calls, code, folding), the prompt timeline, j/k.
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { apiFetch, env } from './env';
import { screenshot, tid, useBrowser, waitForUrl, poll } from './browser';

const s = useBrowser();

interface WireRollout {
  id: number;
  step: number;
  mode: string;
  promptText: string;
  messages: { role: string; content?: string | null; tool_calls?: unknown[] }[];
  rewards: { name: string; value: number | string }[];
}

async function rolloutsAt(mode: string, step: number): Promise<WireRollout[]> {
  const r = await apiFetch<{ rollouts: WireRollout[] }>('GET', `/api/experiments/${env().facts.grpo.id}/rollouts?mode=${mode}&step=${step}&limit=1000`);
  return r.rollouts;
}

const rewardOf = (r: WireRollout, name: string) => Number(r.rewards.find((x) => x.name === name)?.value);

const rows = (page: Page) => page.locator(tid('rollout-row'));
const rowIds = (page: Page) => rows(page).evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-id'))));
const q = (page: Page, k: string) => new URL(page.url()).searchParams.get(k);

/** The text of each row's cell under the reward column `name`, in row order. */
function rewardCells(page: Page, name: string): Promise<string[]> {
  return page.evaluate(
    ([name]) => {
      const head = [...document.querySelectorAll('[data-testid="reward-col"]')].find((h) => h.getAttribute('data-name') === name);
      const th = head?.closest('th');
      if (!th) throw new Error(`no reward-col header for ${name}`);
      const col = [...th.parentElement!.children].indexOf(th);
      return [...document.querySelectorAll('[data-testid="rollout-row"]')].map((r) => (r.children[col] as HTMLElement | undefined)?.innerText ?? '');
    },
    [name],
  );
}

const open = (page: Page, query: string) => page.goto(`/experiments/${env().facts.grpo.id}?tab=rollouts&${query}`);

describe('rollouts', () => {
  test('a step shows its rollouts with one column per reward; step and mode switch', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    await open(page, `mode=train&step=${grpo.latestStep}`);
    await poll(() => rows(page).count()).toBe(grpo.rollouts.train[String(grpo.latestStep)]);
    const cols = await page.locator(tid('reward-col')).evaluateAll((hs) => hs.map((h) => h.getAttribute('data-name')));
    expect(cols.sort()).toEqual([...grpo.rewardNames].sort());
    const modes = await page.locator(`${tid('mode-toggle')} [data-mode]`).evaluateAll((bs) => bs.map((b) => b.getAttribute('data-mode')));
    expect(modes).toEqual(expect.arrayContaining(['train', 'eval']));

    const idsAt199 = await rowIds(page);
    await page.locator(tid('step-input')).fill('100');
    await page.locator(tid('step-input')).press('Enter');
    await waitForUrl(page, (u) => u.searchParams.get('step') === '100');
    const want100 = (await rolloutsAt('train', 100)).map((r) => r.id).sort((a, b) => a - b);
    await poll(async () => (await rowIds(page)).sort((a, b) => a - b)).toEqual(want100);
    expect(want100.some((id) => idsAt199.includes(id))).toBe(false);

    // The slider's Home key goes to the first step with rollouts.
    await page.locator(tid('step-slider')).focus();
    await page.locator(tid('step-slider')).press('Home');
    await waitForUrl(page, (u) => u.searchParams.get('step') === '0');
    await poll(() => rows(page).count()).toBe(grpo.rollouts.train['0']);

    await page.locator(`${tid('mode-toggle')} [data-mode="eval"]`).click();
    await waitForUrl(page, (u) => u.searchParams.get('mode') === 'eval');
    // Eval rollouts exist at fewer steps; the picker lands on one of them.
    await waitForUrl(page, (u) => Object.keys(grpo.rollouts.eval).includes(u.searchParams.get('step') ?? ''));
    await poll(() => rows(page).count()).toBe(grpo.rollouts.eval[q(page, 'step')!]);
  });

  test('search finds exactly the rollout with the word, highlighted', async () => {
    const { page } = s;
    const { search } = env().facts.grpo;
    await open(page, `mode=${search.mode}&step=${search.step}`);
    await rows(page).first().waitFor();
    // "/" focuses the search box from anywhere on the page.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    await poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('rollout-search');
    await page.keyboard.type(search.word);
    await page.keyboard.press('Enter');
    await waitForUrl(page, (u) => u.searchParams.get('q') === search.word);
    await poll(() => rows(page).count()).toBe(1);
    const hit = rows(page).first();
    expect(await hit.innerText()).toContain(search.prompt);

    await hit.click();
    await page.locator(tid('chat-view')).waitFor();
    const marks = page.locator(`${tid('rollout-row')} mark, ${tid('chat-view')} mark`);
    await poll(() => marks.count()).toBeGreaterThan(0);
    for (const m of await marks.allInnerTexts()) expect(m.toLowerCase()).toBe(search.word);

    await page.locator(tid('rollout-search')).fill('xylophonequartz');
    await page.locator(tid('rollout-search')).press('Enter');
    await poll(() => rows(page).count()).toBe(0);
    await page.locator(tid('rollout-search')).fill('');
    await page.locator(tid('rollout-search')).press('Enter');
    await poll(() => rows(page).count()).toBeGreaterThan(1);
  });

  test('reward filter shows only the rows that satisfy it; bad syntax says why', async () => {
    const { page } = s;
    const step = 150;
    await open(page, `mode=train&step=${step}`);
    await rows(page).first().waitFor();
    const all = await rolloutsAt('train', step);
    const want = all.filter((r) => rewardOf(r, 'correctness') < 0.5).map((r) => r.id).sort((a, b) => a - b);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(all.length);

    const f = page.locator(tid('reward-filter'));
    await f.fill('correctness < 0.5');
    await f.press('Enter');
    await waitForUrl(page, (u) => (u.searchParams.get('filter') ?? '').replace(/\s/g, '') === 'correctness<0.5');
    await poll(async () => (await rowIds(page)).sort((a, b) => a - b)).toEqual(want);
    for (const cell of await rewardCells(page, 'correctness')) expect(Number(cell.trim())).toBeLessThan(0.5);

    await f.fill('correctness <<< banana');
    await f.press('Enter');
    const err = page.locator(tid('filter-error'));
    await err.waitFor();
    expect((await err.innerText()).trim().length).toBeGreaterThan(0);
    await f.fill('correctness >= 0.5 and format >= 0.5');
    await f.press('Enter');
    await poll(() => err.count()).toBe(0);
    const both = all.filter((r) => rewardOf(r, 'correctness') >= 0.5 && rewardOf(r, 'format') >= 0.5).map((r) => r.id).sort((a, b) => a - b);
    await poll(async () => (await rowIds(page)).sort((a, b) => a - b)).toEqual(both);
    await f.fill('');
    await f.press('Enter');
    await poll(() => rows(page).count()).toBe(all.length);
  });

  test('a reward column header sorts by it, and again the other way', async () => {
    const { page } = s;
    const values = async () => (await rewardCells(page, 'length_penalty')).map((c) => Number(c.trim()));
    const sorted = (a: number[], dir: 1 | -1) => a.every((v, i) => i === 0 || dir * (v - a[i - 1]) >= 0);
    await page.locator(`${tid('reward-col')}[data-name="length_penalty"]`).click();
    await poll(async () => { const v = await values(); return sorted(v, 1) || sorted(v, -1); }).toBe(true);
    const first = await values();
    const dir: 1 | -1 = sorted(first, 1) ? 1 : -1;
    await page.locator(`${tid('reward-col')}[data-name="length_penalty"]`).click();
    await poll(async () => sorted(await values(), dir === 1 ? -1 : 1)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  test('group by prompt: one row per prompt, the zero-variance group badged', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    const zv = grpo.zeroVar;
    await open(page, `mode=${zv.mode}&step=${zv.step}`);
    await rows(page).first().waitFor();
    await page.locator(tid('group-toggle')).click();
    await waitForUrl(page, (u) => u.searchParams.get('group') === '1');
    const groups = page.locator(tid('group-row'));
    await poll(() => groups.count()).toBe(grpo.prompts.length);
    const badged = groups.filter({ has: page.locator(tid('zero-var')) });
    await poll(() => badged.count()).toBe(1);
    expect(await badged.innerText()).toContain(zv.prompt);
    await screenshot(page, 'rollouts-groups');
    await page.locator(tid('group-toggle')).click();
    await waitForUrl(page, (u) => !u.searchParams.get('group'));
  });

  test('chat view: roles, a collapsible tool call, code, a folded long message; j/k', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    const step = grpo.latestStep;
    const all = await rolloutsAt('train', step);
    const tool = all.find((r) => r.messages.some((m) => m.tool_calls))!;
    const code = all.find((r) => r.messages.some((m) => (m.content ?? '').includes('```python')))!;
    const long = all.find((r) => r.messages.some((m) => (m.content ?? '').length > 3000))!;

    await open(page, `mode=train&step=${step}`);
    await page.locator(`${tid('rollout-row')}[data-id="${tool.id}"]`).click();
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === String(tool.id));
    const chat = page.locator(tid('chat-view'));
    await chat.waitFor();
    const roles = await chat.locator(tid('chat-message')).evaluateAll((ms) => ms.map((m) => m.getAttribute('data-role')));
    // The prompt may be shown first as the user's turn; the messages follow in order.
    expect(roles.slice(-tool.messages.length)).toEqual(tool.messages.map((m) => m.role));
    const call = chat.locator(`details${tid('tool-call')}`);
    expect(await call.count()).toBe(1);
    expect(await call.innerText()).toContain('calculator');
    await call.locator('summary').click();
    await poll(() => call.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await call.innerText()).toContain('expression');

    await page.locator(`${tid('rollout-row')}[data-id="${code.id}"]`).click();
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === String(code.id));
    await poll(() => chat.locator('pre code').count()).toBeGreaterThan(0);
    expect(await chat.locator('pre code').first().innerText()).toContain('print(result)');
    await screenshot(page, 'rollouts-chat');

    await page.locator(`${tid('rollout-row')}[data-id="${long.id}"]`).click();
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === String(long.id));
    const fold = chat.locator(tid('fold-toggle'));
    await fold.first().waitFor();
    // Folded, the long message takes less room than its text needs; unfolded, all of it.
    const msg = chat.locator(tid('chat-message')).filter({ has: page.locator(tid('fold-toggle')) });
    const height = async () => (await msg.boundingBox())!.height;
    const folded = await height();
    await fold.first().click();
    await poll(height).toBeGreaterThan(folded * 1.5);

    // j and k move the selection along the table's order.
    const order = await rowIds(page);
    const at = order.indexOf(long.id);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    const next = order[at + 1] ?? order[at];
    const prev = order[at - 1] ?? order[at];
    await page.keyboard.press('j');
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === String(next));
    await page.keyboard.press('k');
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === String(long.id));
    await page.keyboard.press('k');
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === String(prev));
  });

  test('prompt timeline: the same prompt at every step it was asked', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    const step = grpo.latestStep;
    const all = await rolloutsAt('train', step);
    const r = all.find((x) => x.promptText === grpo.prompts[0])!;
    await open(page, `mode=train&step=${step}&rollout=${r.id}`);
    await page.locator(tid('chat-view')).waitFor();
    await page.locator(tid('prompt-timeline')).click();
    await waitForUrl(page, (u) => u.searchParams.get('timeline') === '1');
    const steps = page.locator(tid('timeline-step'));
    // Every rollout of this prompt (one per sample) at every step it was asked, in step order.
    const logged = Object.keys(grpo.rollouts.train).map(Number).sort((a, b) => a - b);
    await poll(() => steps.count()).toBe(logged.length * grpo.samples);
    const shown = (await steps.evaluateAll((es) => es.map((e) => e.getAttribute('data-step')))).map(Number);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect([...new Set(shown)]).toEqual(logged);
    expect(await page.locator(`${tid('timeline-step')}[data-id="${r.id}"]`).count()).toBe(1);
    await screenshot(page, 'rollouts-timeline');

    // The same prompt at the first step, side by side with this one.
    const first = page.locator(`${tid('timeline-step')}[data-step="${logged[0]}"]`).first();
    const firstId = await first.getAttribute('data-id');
    await page.locator(`${tid('timeline-diff')}[data-id="${firstId}"]`).click();
    const diff = page.locator(tid('diff-view'));
    await poll(() => diff.getAttribute('data-right')).toBe(firstId);
    expect(await diff.getAttribute('data-left')).toBe(String(r.id));
    expect(await diff.innerText()).toContain('the same prompt');
    const heads = await diff.locator(tid('diff-column')).allInnerTexts();
    expect(heads[1]).toContain(`step ${logged[0]}`);
    await page.locator(tid('diff-close')).click();
    await poll(() => page.locator(tid('chat-view')).getAttribute('data-id')).toBe(String(r.id));
  });
});
