// Across steps: a search over every step finds a hit at another step and
// opens it there; moving the step keeps the same prompt's same sample open;
// a search that leaves the open rollout out closes it.
import { describe, expect, test } from 'vitest';
import { env } from './env';
import { poll, tid, useBrowser, waitForUrl } from './browser';

const s = useBrowser();

describe('rollouts across steps', () => {
  test('a search over all steps opens its hit at the hit’s step', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    const { search } = grpo;
    // Start at a step that is not the hit's.
    const other = Object.keys(grpo.rollouts[search.mode]).map(Number).find((x) => x !== search.step)!;
    await page.goto(`/experiments/${grpo.id}?tab=rollouts&mode=${search.mode}&step=${other}&q=${search.word}`);
    await poll(async () => (await page.locator(tid('rollout-row')).count()) === 0 && (await page.locator('.empty').count()) > 0).toBe(true);
    await page.locator(tid('search-all-steps')).check();
    const hit = page.locator(tid('rollout-row'));
    await poll(() => hit.count()).toBe(1);
    expect(await hit.locator(tid('rollout-step')).innerText()).toBe(String(search.step));
    await hit.click();
    await waitForUrl(page, (u) => u.searchParams.get('step') === String(search.step) && u.searchParams.get('rollout') !== null);
    await poll(() => page.locator(tid('chat-view')).innerText()).toContain(search.prompt);
  });

  test('] keeps the same prompt’s same sample open; a search that leaves it out closes it', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    const steps = Object.keys(grpo.rollouts.train).map(Number).sort((a, b) => a - b);
    await page.goto(`/experiments/${grpo.id}?tab=rollouts&mode=train&step=${steps[0]}`);
    const rows = page.locator(tid('rollout-row'));
    await poll(() => rows.count()).toBe(grpo.rollouts.train[String(steps[0])]);
    // The second sample of some prompt.
    const prompts = await rows.locator('.rp-prompt').allInnerTexts();
    const i = prompts.findIndex((p, k) => prompts.indexOf(p) !== k);
    const prompt = prompts[i];
    await rows.nth(i).click();
    const chat = page.locator(tid('chat-view'));
    await poll(() => chat.getAttribute('data-id')).toBe(await rows.nth(i).getAttribute('data-id'));
    await page.locator('body').press(']');
    await waitForUrl(page, (u) => u.searchParams.get('step') === String(steps[1]));
    await poll(async () => {
      const id = await chat.getAttribute('data-id');
      const row = page.locator(`${tid('rollout-row')}[data-id="${id}"]`);
      if ((await row.count()) !== 1) return 'not in the table';
      const all = await rows.locator('.rp-prompt').allInnerTexts();
      const at = await rows.evaluateAll((els, x) => els.findIndex((e) => e.getAttribute('data-id') === x), id);
      return `${all[at]}#${all.slice(0, at).filter((p) => p === all[at]).length}`;
    }).toBe(`${prompt}#1`);
    // A search for a word no rollout has: the open rollout goes with the rows.
    await page.locator(tid('rollout-search')).fill('zzzqqqxxnotthere');
    await page.locator(tid('rollout-search')).press('Enter');
    await waitForUrl(page, (u) => u.searchParams.get('rollout') === null);
    await poll(() => chat.getAttribute('data-id')).toBeNull(); // the pane follows the URL on the next render

    // ? lists the shortcuts; Esc closes the list.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('?');
    const help = page.locator(tid('shortcuts'));
    await help.waitFor();
    expect(await help.innerText()).toContain('previous / next step');
    await page.keyboard.press('Escape');
    await poll(() => help.count()).toBe(0);
  });
});
