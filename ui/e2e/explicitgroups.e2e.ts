// Explicit groups: one prompt logged under two group ids (and without one)
// at a step is three GRPO groups in the group view, each badged with its
// id; opening one lists only its own samples; the chat view shows the id.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, useBrowser } from './browser';

const s = useBrowser();

describe('explicit groups', () => {
  test('a prompt repeated under two group ids is two groups', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'explicit-groups' });
    const prompt = 'Find all real $x$ with $x^2 - 5x + 6 = 0$.';
    const think = '<think>' + 'Factor: (x-2)(x-3). '.repeat(300) + '</think>';
    const sample = (group: string | undefined, i: number, correct: number) => ({
      step: 4,
      mode: 'train',
      promptText: prompt,
      messages: [
        { role: 'user', content: prompt },
        { role: 'assistant', content: `${think} The roots are \\boxed{2, 3} (sample ${i}).` },
      ],
      rewards: { correct, format: 1 },
      ...(group === undefined ? {} : { group }),
    });
    const rollouts = [
      ...[0, 1, 2, 3].map((i) => sample('round-1', i, i % 2)),
      ...[0, 1, 2].map((i) => sample('round-2', i, 1)),
      ...[0, 1].map((i) => sample(undefined, i, 0)),
    ];
    const wrote = await apiFetch<{ ids: number[] }>('POST', `/api/experiments/${id}/rollouts`, { rollouts });
    const { page } = s;
    await page.goto(`/experiments/${id}?tab=rollouts&step=4&mode=train&group=1`);
    const groups = page.locator(tid('group-row'));
    await poll(() => groups.count()).toBe(3);
    const ids = () => groups.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-group')));
    expect(await ids()).toEqual(['', 'round-1', 'round-2']);
    expect(await groups.nth(1).locator(tid('group-id')).innerText()).toBe('round-1');
    expect(await groups.nth(0).locator(tid('group-id')).count()).toBe(0);
    // The id-less group and round-2 have no spread in `correct`: zero variance.
    expect(await groups.filter({ has: page.locator(tid('zero-var')) }).count()).toBe(2);

    await groups.nth(1).click();
    const samples = page.locator(tid('group-sample'));
    await poll(() => samples.count()).toBe(4);
    const sampleIds = await samples.evaluateAll((b) => b.map((e) => Number(e.getAttribute('data-id'))));
    expect(sampleIds.sort((a, b) => a - b)).toEqual(wrote.ids.slice(0, 4));
    await screenshot(page, 'explicit-groups');

    await samples.first().click();
    const chip = page.locator(tid('chat-view')).locator(tid('rollout-group'));
    await poll(() => chip.count()).toBe(1);
    expect(await chip.innerText()).toContain('round-1');
  });
});
