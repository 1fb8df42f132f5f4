// Compare, for rollouts: a reward chart per reward with a line per run, and
// the same prompt's samples at a shared step side by side, one column a run.
import { describe, expect, test } from 'vitest';
import { apiFetch } from './env';
import { numAttr, poll, screenshot, tid, useBrowser } from './browser';

const s = useBrowser();
const PROMPTS = ['What is 2+2?', 'What is 3·7?'];

async function run(name: string, correct: number) {
  const { experimentId: id } = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name });
  const rollouts = [];
  for (const step of [1, 3]) {
    for (const p of PROMPTS) {
      for (let k = 0; k < 4; k++) {
        rollouts.push({
          step,
          mode: 'train',
          promptText: p,
          messages: [
            { role: 'user', content: p },
            { role: 'assistant', content: `<think>working…</think>${name} says ${k}` },
          ],
          rewards: { correctness: correct, length_penalty: -0.1 * k },
        });
      }
    }
  }
  const wrote = await apiFetch<{ ids: number[] }>('POST', `/api/experiments/${id}/rollouts`, { rollouts });
  return { id, ids: wrote.ids };
}

describe('compare rollouts', () => {
  test('reward charts with a line per run, and one prompt side by side across runs', async () => {
    const a = await run('baseline-run', 0);
    const b = await run('tuned-run', 1);
    const { page } = s;
    await page.goto(`/compare?ids=${a.id},${b.id}`);
    const rewards = page.locator(`${tid('chart-section')}[data-mode="rewards"]`);
    await rewards.waitFor();
    const chart = rewards.locator(`${tid('chart')}[data-name="correctness"]`);
    await poll(() => numAttr(chart, 'data-series')).toBe(2);

    const side = page.locator(tid('compare-rollouts'));
    await side.scrollIntoViewIfNeeded();
    // The latest shared step and the first prompt, by default.
    await poll(() => side.locator(tid('compare-step')).inputValue()).toBe('3');
    const cols = side.locator(tid('compare-column'));
    await poll(() => cols.count()).toBe(2);
    expect(await cols.nth(0).getAttribute('data-id')).toBe(a.id);
    await poll(() => cols.nth(0).locator(tid('compare-sample')).count()).toBe(4);
    await poll(() => cols.nth(1).locator(tid('compare-sample')).count()).toBe(4);
    expect(await cols.nth(0).locator(tid('compare-means')).innerText()).toContain('correctness 0');
    expect(await cols.nth(1).locator(tid('compare-means')).innerText()).toContain('correctness 1');
    expect(await cols.nth(1).locator(tid('compare-sample')).first().innerText()).toContain('tuned-run says 0');
    // Step 3's first prompt in run b: ids 8..11 (step 1 took 0..7).
    const href = await cols.nth(1).locator(tid('compare-sample')).first().getAttribute('href');
    expect(href).toBe(`/experiments/${b.id}?tab=rollouts&mode=train&step=3&rollout=${b.ids[8]}`);
    // Two samples, one per run, side by side with a line diff of their answers.
    await cols.nth(0).locator(tid('compare-pick')).first().check();
    await cols.nth(1).locator(tid('compare-pick')).first().check();
    const diff = side.locator(tid('diff-view'));
    await poll(() => diff.getAttribute('data-right')).toBe(String(b.ids[8]));
    expect(await diff.getAttribute('data-left')).toBe(String(a.ids[8]));
    expect(await diff.locator(`${tid('diff-rewards')} tr[data-name="correctness"] ${tid('diff-delta')}`).innerText()).toBe('+1');
    expect(await diff.locator(`${tid('diff-line')}[data-kind="del"]`).innerText()).toContain('baseline-run says 0');
    expect(await diff.locator(`${tid('diff-line')}[data-kind="add"]`).innerText()).toContain('tuned-run says 0');
    await screenshot(page, 'compare-rollouts');
    await diff.locator(tid('diff-close')).click();
    await poll(() => side.locator(tid('diff-view')).count()).toBe(0);

    // Another prompt, another step.
    await side.locator(tid('compare-prompt')).selectOption(PROMPTS[1]);
    await poll(() => cols.nth(0).locator(tid('compare-sample')).first().getAttribute('data-id')).toBe(String(a.ids[12]));
    await side.locator(tid('compare-step')).selectOption('1');
    await poll(() => cols.nth(0).locator(tid('compare-sample')).first().getAttribute('data-id')).toBe(String(a.ids[4]));
  });
});
