// Metadata: a rollout's metadata object shows in the chat view's header,
// key by key in logged order, nested values as compact JSON, the rest
// behind "+N more"; a rollout without metadata shows none.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, useBrowser } from './browser';

const s = useBrowser();

describe('metadata', () => {
  test('the chat view lists the metadata as logged', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'metadata' });
    const metadata: Record<string, unknown> = {
      sample: 3,
      group: 'q-17',
      model_version: 'step-40',
      stop_reason: 'length',
      tokens: { prompt: 212, completion: 4096 },
      note: '<img src=x onerror="window.__xss=1">',
      ok: true,
      none: null,
    };
    for (let i = 0; i < 6; i++) metadata[`extra_${i}`] = i;
    const msgs = [
      { role: 'user', content: 'What is 6 x 7?' },
      { role: 'assistant', content: '42' },
    ];
    const wrote = await apiFetch<{ ids: number[] }>('POST', `/api/experiments/${id}/rollouts`, {
      rollouts: [
        { step: 1, mode: 'train', promptText: 'What is 6 x 7?', messages: msgs, rewards: { correct: 1 }, metadata },
        { step: 1, mode: 'train', promptText: 'What is 6 x 7?', messages: msgs, rewards: { correct: 0 } },
      ],
    });
    const { page } = s;
    await page.goto(`/experiments/${id}?tab=rollouts&step=1&mode=train&rollout=${wrote.ids[0]}`);
    const meta = page.locator(tid('chat-view')).locator(tid('rollout-metadata'));
    await poll(() => meta.count()).toBe(1);
    const keys = () => meta.locator('.rp-meta-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(await keys()).toEqual(Object.keys(metadata).slice(0, 12));
    const value = (k: string) => meta.locator(`[data-key="${k}"] dd`).innerText();
    expect(await value('sample')).toBe('3');
    expect(await value('stop_reason')).toBe('length');
    expect(await value('tokens')).toBe('{"prompt":212,"completion":4096}');
    expect(await value('note')).toBe(metadata.note);
    expect(await value('ok')).toBe('true');
    expect(await value('none')).toBe('null');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot(page, 'metadata');
    // The last two keys are behind "+2 more".
    expect(await meta.locator(tid('metadata-more')).innerText()).toBe('+2 more');
    await meta.locator(tid('metadata-more')).click();
    expect(await keys()).toEqual(Object.keys(metadata));
    expect(await value('extra_5')).toBe('5');

    await page.goto(`/experiments/${id}?tab=rollouts&step=1&mode=train&rollout=${wrote.ids[1]}`);
    await poll(() => page.locator(tid('chat-view')).getAttribute('data-id')).toBe(String(wrote.ids[1]));
    expect(await page.locator(tid('rollout-metadata')).count()).toBe(0);
  });
});
