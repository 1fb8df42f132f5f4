// Reading today's rollouts: long <think> traces with LaTeX and code, a boxed
// answer, and an agent trajectory whose tool call carries code. The answer
// comes first and previews use it; the reasoning is folded; math is typeset;
// code is highlighted with a copy button; messages keep their logged order.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { poll, screenshot, tid, urlOf, useBrowser } from './browser';

const s = useBrowser();

/** A reasoning trace of about n characters, with math and code in it. */
function trace(seed: number, n: number): string {
  const parts: string[] = [];
  let i = 0;
  while (parts.join('\n\n').length < n) {
    i++;
    parts.push(
      i % 3 === 0
        ? '```python\ndef ratio(a, b):\n    return a / b\n\nprint(ratio(70, 220))\n```'
        : `Step ${i}: let $x_${i} = \\frac{${seed + i}}{220}$, so $x_${i}^2 < 1$ and the sum $$\\sum_{k=1}^{${i}} k = ${(i * (i + 1)) / 2}$$ holds.`,
    );
  }
  return parts.join('\n\n');
}

const PROMPT = 'A bag holds 70 red and 150 blue balls. What fraction is red? Put the answer in \\boxed{}.';

describe('reasoning traces', () => {
  test('answer first, reasoning folded, math typeset, code highlighted, logged order kept', async () => {
    const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'math-grpo-traces' });
    const samples = Array.from({ length: 16 }, (_, k) => ({
      step: 1,
      mode: 'train',
      promptText: PROMPT,
      messages: [
        { role: 'system', content: 'You are a careful mathematician.' },
        { role: 'user', content: PROMPT },
        {
          role: 'assistant',
          content: `<think>\n${trace(k, 20_000)}\n</think>\n\nThe fraction is $\\frac{70}{220} = \\frac{7}{22}$, so the answer is $\\boxed{\\frac{7}{22}}$.`,
        },
      ],
      rewards: { correctness: k % 2, format: 1, length_penalty: -0.01 * k },
    }));
    const agent = {
      step: 1,
      mode: 'train',
      promptText: 'How much is pi squared?',
      messages: [
        { role: 'system', content: 'You can run Python.' },
        { role: 'user', content: 'How much is pi squared?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'python', arguments: JSON.stringify({ code: 'import math\nprint(math.pi ** 2)\n', timeout: 10 }) } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '9.869604401089358' },
        { role: 'assistant', content: '<think>The tool says 9.8696.</think>It is about $9.87$.' },
      ],
      rewards: { correctness: 1 },
    };
    const wrote = await apiFetch<{ ids: number[] }>('POST', `/api/experiments/${id}/rollouts`, { rollouts: [...samples, agent] });

    const { page } = s;
    await page.goto(`/experiments/${id}?tab=rollouts&step=1&mode=train`);
    await poll(() => page.locator(tid('rollout-row')).count()).toBe(17);
    const first = page.locator(tid('rollout-row')).first();
    // The preview is the answer, not the start of the reasoning.
    expect(await first.locator('.rp-answer').innerText()).toMatch(/^The fraction is/);
    expect(await page.locator('.rp-answer', { hasText: '<think>' }).count()).toBe(0);
    expect(await first.locator(tid('rollout-boxed')).innerText()).toBe('\\frac{7}{22}');
    // The total: every reward by default (0 + 1 + 0 for the first sample), weighted from the URL.
    expect(await first.locator(tid('rollout-total')).innerText()).toBe('1');
    await page.locator(tid('reward-weights')).fill('correctness=2, length_penalty=10');
    await page.locator(tid('reward-weights')).press('Enter');
    await poll(() => page.locator(tid('rollout-row')).nth(1).locator(tid('rollout-total')).innerText()).toBe('1.9');

    await first.click();
    const chat = page.locator(tid('chat-view'));
    await chat.waitFor();
    const msgs = chat.locator(tid('chat-message'));
    expect(await msgs.evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual(['system', 'user', 'assistant']);
    expect(await msgs.nth(1).innerText()).toContain('prompt');
    const answer = msgs.nth(2);
    await poll(() => answer.locator('.rp-msg-body .katex').count()).toBeGreaterThan(1);
    const reasoning = answer.locator(tid('reasoning'));
    expect(await reasoning.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await reasoning.locator('summary').innerText()).toMatch(/^Reasoning · 2\d,\d{3} chars/);
    // The answer is above its reasoning.
    const [answerTop, reasoningTop] = await Promise.all([answer.locator('.rp-msg-body').boundingBox(), reasoning.boundingBox()]);
    expect(answerTop!.y).toBeLessThan(reasoningTop!.y);
    await reasoning.locator('summary').click();
    await poll(() => reasoning.locator('.katex').count()).toBeGreaterThan(10);
    await poll(() => reasoning.locator('pre code.hljs').count()).toBeGreaterThan(0);
    expect(await reasoning.locator(tid('copy-code')).count()).toBeGreaterThan(0);
    await screenshot(page, 'reasoning-trace');

    // The agent: the tool call's code argument as highlighted code.
    await page.locator(`${tid('rollout-row')}[data-id="${wrote.ids[16]}"]`).click();
    await poll(() => chat.getAttribute('data-id')).toBe(String(wrote.ids[16]));
    const call = chat.locator(tid('tool-call'));
    expect(await call.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    const code = call.locator(`${tid('tool-arg')}[data-name="code"] code`);
    await poll(() => code.getAttribute('class')).toContain('hljs');
    expect(await code.innerText()).toBe('import math\nprint(math.pi ** 2)\n');
    expect(await call.locator(`${tid('tool-arg')}[data-name="timeout"]`).innerText()).toContain('10');
    expect(await chat.locator(tid('chat-message')).evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
    await screenshot(page, 'agent-trajectory');

    // A 1,024 px laptop: the chat stays beside the table, in view.
    await page.setViewportSize({ width: 1024, height: 768 });
    const [table, pane] = await Promise.all([page.locator(tid('rollout-table')).boundingBox(), chat.boundingBox()]);
    expect(pane!.x).toBeGreaterThan(table!.x + table!.width - 1);
    expect(pane!.y).toBeLessThan(768);
    await screenshot(page, 'rollouts-1024');
    await page.setViewportSize({ width: 1440, height: 900 });

    // The GRPO group of the 16 samples: format is flat (flagged on its own, the group is not zero
    // variance as a whole), each sample has its advantage, and the strip draws them.
    await page.goto(`/experiments/${id}?tab=rollouts&step=1&mode=train&group=1`);
    const group = page.locator(tid('group-row'), { hasText: 'A bag holds' });
    await group.waitFor();
    expect(await group.locator(tid('zero-var')).count()).toBe(0);
    expect(await group.locator(tid('zero-var-reward')).count()).toBe(1);
    await group.click();
    const strip = page.locator(tid('advantage-strip'));
    await strip.waitFor();
    expect(await strip.locator('circle').count()).toBe(16);
    const advs = await page.locator(tid('sample-advantage')).allInnerTexts();
    expect(advs.length).toBe(16);
    // Correct samples (odd k) pull up, wrong ones down.
    const values = advs.map((t) => Number(t.replace(/^A\s*/, '').replace(/\s+/g, '')));
    expect(values.filter((v) => v > 0).length).toBe(8);
    expect(Math.abs(values.reduce((a, b) => a + b, 0))).toBeLessThan(0.1); // z-scores sum to 0, up to rounding
    await screenshot(page, 'grpo-group');

    // Best against worst: the highest total (right, k=1: 1 + 1 − 0.01) beside the lowest (wrong, k=14: 0 + 1 − 0.14).
    await page.locator(tid('best-vs-worst')).click();
    const diff = page.locator(tid('diff-view'));
    await diff.waitFor();
    expect(await diff.getAttribute('data-left')).toBe(String(wrote.ids[1]));
    await poll(() => diff.getAttribute('data-right')).toBe(String(wrote.ids[14]));
    expect(urlOf(page).searchParams.get('diff')).toBe(String(wrote.ids[14]));
    expect(await diff.locator(tid('diff-column')).count()).toBe(2);
    expect(await diff.locator(`${tid('diff-rewards')} tr[data-name="correctness"] ${tid('diff-delta')}`).innerText()).toBe('-1');
    expect(await diff.locator(`${tid('diff-rewards')} tr[data-name="format"] ${tid('diff-delta')}`).innerText()).toBe('0');
    // The traces differ in their numbers; the last line (the boxed answer) is the same.
    await poll(() => diff.locator(`${tid('diff-line')}[data-kind="add"]`).count()).toBeGreaterThan(0);
    expect(await diff.locator(`${tid('diff-line')}[data-kind="del"]`).count()).toBeGreaterThan(0);
    expect(await diff.locator(tid('diff-line')).last().getAttribute('data-kind')).toBe('same');
    await screenshot(page, 'diff-best-worst');
    await page.locator(tid('diff-swap')).click();
    await poll(() => diff.getAttribute('data-left')).toBe(String(wrote.ids[14]));
    await page.keyboard.press('Escape');
    await poll(() => page.locator(tid('diff-view')).count()).toBe(0);
    expect(urlOf(page).searchParams.get('diff')).toBe(null);
  });
});
