// Rollout text is untrusted model output. e2e-xss carries script and
// event-handler payloads in its name, config, metric and reward names,
// prompts, messages and tool calls (see fill.py). Every page that shows them
// must show them as text: nothing runs, no dialog opens, the CSP never has
// to block anything, and no active element or attribute reaches the DOM.
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { env } from './env';
import { screenshot, tid, useBrowser, waitForUrl, poll } from './browser';

const s = useBrowser();

/** Everything in the page that could run script, described; empty when inert. */
function activeContent(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    for (const el of document.body.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'frame', 'base', 'meta'].includes(tag)) found.push(`<${tag}>`);
      for (const a of el.attributes) {
        const v = a.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
        if (a.name.startsWith('on')) found.push(`<${tag} ${a.name}>`);
        if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc'].includes(a.name) && (v.startsWith('javascript:') || v.startsWith('data:text/html') || a.name === 'srcdoc'))
          found.push(`<${tag} ${a.name}=${a.value}>`);
      }
    }
    return found;
  });
}

async function assertInert(page: Page, where: string): Promise<void> {
  const xss = await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
  expect(xss, `window.__xss set on ${where}`).toBeUndefined();
  expect(s.dialogs, `dialogs on ${where}`).toEqual([]);
  const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  expect(csp, `CSP had to block something on ${where}`).toEqual([]);
  expect(await activeContent(page), `active content on ${where}`).toEqual([]);
}

/** The page's visible text contains the payload literally (it was not eaten as markup). */
async function showsText(page: Page, text: string): Promise<void> {
  await poll(() => page.locator('main').innerText(), { message: `text ${text}` }).toContain(text);
}

describe('xss payloads stay inert', () => {
  test('the server sends a CSP that forbids inline script', async () => {
    for (const p of ['/', `/experiments/${env().facts.xss.id}`]) {
      const res = await fetch(env().url + p);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, p).not.toBe('');
      const script = /(?:^|;)\s*script-src\s+([^;]*)/.exec(csp)?.[1] ?? /(?:^|;)\s*default-src\s+([^;]*)/.exec(csp)?.[1] ?? '';
      expect(script, `${p}: ${csp}`).toContain("'self'");
      expect(script).not.toContain("'unsafe-inline'");
      expect(script).not.toContain("'unsafe-eval'");
    }
  });

  test('experiments list', async () => {
    const { page } = s;
    const { xss } = env().facts;
    await page.goto('/');
    await page.locator(`${tid('exp-row')}[data-id="${xss.id}"]`).waitFor();
    await showsText(page, xss.name);
    await assertInert(page, 'the list');
  });

  test('charts with a payload metric and reward name', async () => {
    const { page } = s;
    const { xss } = env().facts;
    await page.goto(`/experiments/${xss.id}`);
    await page.locator(`${tid('chart-section')}[data-mode="rewards"]`).waitFor();
    await poll(() => page.locator(tid('chart')).count()).toBeGreaterThanOrEqual(4);
    await showsText(page, xss.metric);
    await showsText(page, xss.rewardName);
    await showsText(page, xss.name);
    await assertInert(page, 'charts');
  });

  test('config with payload values', async () => {
    const { page } = s;
    const { xss } = env().facts;
    await page.locator(tid('tab-config')).click();
    await waitForUrl(page, (u) => u.searchParams.get('tab') === 'config');
    for (const k of xss.configKeys) await page.locator(`${tid('config-row')}[data-key="${k}"]`).waitFor();
    expect(await page.locator(`${tid('config-row')}[data-key="note"]`).innerText()).toContain('<script>window.__xss=1</script>');
    await assertInert(page, 'config');
  });

  test('rollouts table, chat view, groups and timeline', async () => {
    const { page } = s;
    const { xss } = env().facts;
    await page.goto(`/experiments/${xss.id}?tab=rollouts&mode=train&step=${xss.steps[0]}`);
    await page.locator(tid('rollout-row')).first().waitFor();
    await showsText(page, xss.prompt);
    const cols = await page.locator(tid('reward-col')).evaluateAll((hs) => hs.map((h) => h.getAttribute('data-name')));
    expect(cols).toContain(xss.rewardName);
    await assertInert(page, 'rollout table');

    await page.locator(tid('rollout-row')).first().click();
    const chat = page.locator(tid('chat-view'));
    await chat.waitFor();
    await poll(() => chat.locator(tid('chat-message')).count()).toBeGreaterThanOrEqual(5);
    // Unfold, open every tool call and <details>, hover everything.
    for (const b of await chat.locator(tid('fold-toggle')).all()) await b.click();
    for (const d of await chat.locator('details').all()) await d.evaluate((el) => ((el as HTMLDetailsElement).open = true));
    for (const m of await chat.locator(tid('chat-message')).all()) await m.hover();
    await showsText(page, 'hover me');
    await assertInert(page, 'chat view');
    await screenshot(page, 'xss-chat');

    await page.locator(tid('group-toggle')).click();
    await page.locator(tid('group-row')).first().waitFor();
    await showsText(page, xss.prompt);
    await assertInert(page, 'groups');
    await page.locator(tid('group-toggle')).click();
    await waitForUrl(page, (u) => !u.searchParams.get('group'));

    await page.locator(tid('rollout-row')).first().click();
    await page.locator(tid('prompt-timeline')).click();
    await poll(() => page.locator(tid('timeline-step')).count()).toBe(xss.steps.length * xss.samples);
    for (const m of await page.locator(tid('timeline-step')).all()) await m.hover();
    await assertInert(page, 'timeline');
  });

  test('math, code, code arguments and token strings', async () => {
    const { page } = s;
    const { xss } = env().facts;
    // The first sample of the last step carries tokens; every sample math and code payloads.
    await page.goto(`/experiments/${xss.id}?tab=rollouts&mode=train&step=${xss.steps[2]}`);
    await page.locator(tid('rollout-row')).first().click();
    const chat = page.locator(tid('chat-view'));
    await poll(() => chat.locator(tid('token-text')).count()).toBe(1);
    const toks = chat.locator(tid('token'));
    expect(await toks.allInnerTexts()).toEqual(['<script>window.__xss=1</script>', '<img src=x onerror="window.__xss=1">', ' safe', '&lt;b&gt;']);
    for (const t of await toks.all()) await t.hover();
    await assertInert(page, 'token view');
    // As Markdown: the math is typeset (KaTeX, untrusted: \href and \htmlData refused), the code highlighted.
    await chat.locator(tid('token-colour')).selectOption('');
    await poll(() => chat.locator('.katex').count()).toBeGreaterThan(1);
    for (const b of await chat.locator(tid('fold-toggle')).all()) await b.click();
    for (const d of await chat.locator('details').all()) await d.evaluate((el) => ((el as HTMLDetailsElement).open = true));
    await poll(() => chat.locator('pre code.hljs').count()).toBeGreaterThan(0);
    await poll(() => chat.locator('.rp-code-arg code').count()).toBeGreaterThan(0);
    expect(await chat.locator('a[href^="javascript"], [onclick]').count()).toBe(0);
    await showsText(page, '<script>window.__xss=1</script><img src=x onerror=window.__xss=1>');
    for (const m of await chat.locator(tid('chat-message')).all()) await m.hover();
    await assertInert(page, 'math and code');
    await chat.locator(tid('token-colour')).selectOption('logprob');
  });

  test('compare with payload config values in the diff', async () => {
    const { page } = s;
    const { xss, grpo } = env().facts;
    await page.goto(`/compare?ids=${grpo.id},${xss.id}`);
    await page.locator(`${tid('diff-row')}[data-key="note"]`).waitFor();
    expect(await page.locator(`${tid('diff-row')}[data-key="note"]`).innerText()).toContain('<script>window.__xss=1</script>');
    await poll(() => page.locator(tid('legend-item')).count()).toBe(2);
    await showsText(page, xss.name);
    await assertInert(page, 'compare');
  });
});
