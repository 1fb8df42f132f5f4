// Tokens: a rollout logged with per-token logprob and entropy shows its
// assistant message as tokens coloured by the chosen value, with a legend
// and each token's values on hover.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, useBrowser } from './browser';

const s = useBrowser();

describe('tokens', () => {
  test('the chat view colours the text by a per-token value, with a legend and hover values', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'tokens' });
    const text = ['<think>', 'Let', ' me', ' add', ':', ' 2', '+', '2', '</think>', ' The', ' answer', ' is', ' 4', '.'];
    const logprob = text.map((_, i) => (i === 12 ? -6 : -0.05 * i));
    const entropy = text.map((_, i) => (i === 3 ? 2.5 : 0.1));
    const wrote = await apiFetch<{ ids: number[] }>('POST', `/api/experiments/${id}/rollouts`, {
      rollouts: [
        {
          step: 1,
          mode: 'train',
          promptText: 'What is 2+2?',
          messages: [
            { role: 'user', content: 'What is 2+2?' },
            { role: 'assistant', content: text.join('') },
          ],
          rewards: { correctness: 1 },
          tokens: [{ message: 1, text, values: { logprob, entropy } }],
        },
      ],
    });
    const { page } = s;
    await page.goto(`/experiments/${id}?tab=rollouts&step=1&mode=train&rollout=${wrote.ids[0]}`);
    // The table counts the tokens (the list carries the count, not the tokens).
    await poll(() => page.locator(tid('rollout-tokens')).first().innerText()).toBe(String(text.length));
    const chat = page.locator(tid('chat-view'));
    const view = chat.locator(tid('token-text'));
    await poll(() => view.count()).toBe(1);
    // The first value by default; the user's message has no tokens and stays text.
    expect(await chat.locator(tid('token-colour')).inputValue()).toBe('logprob');
    expect(await view.getAttribute('data-by')).toBe('logprob');
    const toks = view.locator(tid('token'));
    expect(await toks.count()).toBe(text.length);
    expect((await toks.allInnerTexts()).join('')).toBe(text.join(''));
    // The least likely token is the deepest red; the first (logprob 0) is plain.
    const bg = (i: number) => toks.nth(i).evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(await bg(0)).toBe('rgba(0, 0, 0, 0)');
    expect(await bg(12)).toBe('rgba(224, 49, 49, 0.7)');
    expect(await toks.nth(12).getAttribute('title')).toBe('" 4" · logprob -6 · entropy 0.1');
    expect(await chat.locator(tid('token-legend')).innerText()).toMatch(/logprob\s*-6\s*0/);
    await screenshot(page, 'tokens-logprob');

    // Entropy: the highest is the deepest green; the choice is kept for the next rollout.
    await chat.locator(tid('token-colour')).selectOption('entropy');
    await poll(() => view.getAttribute('data-by')).toBe('entropy');
    expect(await bg(3)).toBe('rgba(47, 158, 68, 0.7)');
    expect(await bg(0)).toBe('rgba(0, 0, 0, 0)');
    // Nothing: the message as text again, reasoning folded.
    await chat.locator(tid('token-colour')).selectOption('');
    await poll(() => view.count()).toBe(0);
    await poll(() => chat.locator(tid('reasoning')).count()).toBe(1);
    await page.reload();
    await poll(() => chat.locator(tid('token-colour')).inputValue()).toBe('');
  });
});
