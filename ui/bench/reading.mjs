#!/usr/bin/env node
// Reading benchmark (`make bench-reading`): how fast the rollout browser shows
// today's rollouts, in Debian's Chromium against bin/expt on a fresh directory.
//
//   render   click a row whose answer is a 30 KB response (a <think> trace with
//            LaTeX and code, then a boxed answer) until its answer's math is
//            typeset in the chat view; then opening its reasoning until every
//            formula and code block in it is typeset and highlighted.
//   step     with --steps steps of --per-step rollouts of ~20 KB each (8 prompts),
//            from typing a step and pressing Enter until the table shows that
//            step's first page.
//
// Each figure is the median of --runs, every run in a fresh browser context.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(uiDir, '..');
const { values: opt } = parseArgs({
  options: {
    steps: { type: 'string', default: '4' },
    'per-step': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '5' },
    bin: { type: 'string', default: path.join(repoDir, 'bin', 'expt') },
  },
});
const STEPS = Number(opt.steps);
const PER_STEP = Number(opt['per-step']);
const RUNS = Number(opt.runs);
const log = (m) => console.error(`[${(performance.now() / 1000).toFixed(1)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function trace(seed, n) {
  const parts = [];
  let i = 0;
  while (parts.join('\n\n').length < n) {
    i++;
    parts.push(
      i % 4 === 0
        ? '```python\ndef check(a, b):\n    """Compare the two sides."""\n    return abs(a - b) < 1e-9\n\nprint(check(70 / 220, 7 / 22))\n```'
        : `Step ${i}: write $x_{${i}} = \\frac{${seed + i}}{220}$; then $x_{${i}}^2 \\le 1$ and $$\\sum_{k=1}^{${i}} k = \\frac{${i}(${i}+1)}{2}$$ so the bound holds.`,
    );
  }
  return parts.join('\n\n');
}

function rollout(step, p, k, size) {
  const prompt = `Problem ${p}: a bag holds ${70 + p} red and 150 blue balls. What fraction is red? Put it in \\boxed{}.`;
  return {
    step,
    mode: 'train',
    promptText: prompt,
    messages: [
      { role: 'system', content: 'You are a careful mathematician.' },
      { role: 'user', content: prompt },
      { role: 'assistant', content: `<think>\n${trace(p * 100 + k, size)}\n</think>\n\nThe fraction is $\\frac{${70 + p}}{${220 + p}}$, so $\\boxed{\\frac{${70 + p}}{${220 + p}}}$.` },
    ],
    rewards: { correctness: k % 2, format: 1, length_penalty: -0.001 * k },
  };
}

async function call(url, method, body, headers = {}) {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

async function main() {
  if (!existsSync(opt.bin)) throw new Error(`${opt.bin} is missing: run make build`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expt-bench-reading-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EXPT_')));
  const proc = spawn(opt.bin, ['serve', '--addr', '127.0.0.1:0', '--data', dir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stderr.on('data', (c) => {
      buf += c;
      const m = /expt listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`expt serve exited ${code}: ${buf}`)));
  });
  try {
    const email = 'bench@example.com';
    const password = 'bench password 123';
    const up = await call(`${url}/api/auth/sign-up/email`, 'POST', { email, password });
    const cookie = (up.headers.get('set-cookie') ?? '').split(';')[0];
    const { json: k } = await call(`${url}/api/api-keys`, 'POST', { name: 'bench' }, { Cookie: cookie });
    const auth = { Authorization: `Bearer ${k.key}` };
    const { json: e } = await call(`${url}/api/experiments`, 'POST', { name: 'reading' }, auth);
    const id = e.experimentId;
    log(`filling ${STEPS} steps of ${PER_STEP} rollouts of ~20 KB`);
    for (let step = 0; step < STEPS; step++) {
      for (let off = 0; off < PER_STEP; off += 128) {
        const batch = [];
        for (let j = off; j < Math.min(PER_STEP, off + 128); j++) batch.push(rollout(step, j % 8, Math.floor(j / 8), j === 0 ? 30_000 : 20_000));
        await call(`${url}/api/experiments/${id}/rollouts`, 'POST', { rollouts: batch }, auth);
      }
    }
    log('filled');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const render = [];
    const reasoning = [];
    const firstScreen = [];
    const stepSwitch = [];
    for (let run = 0; run < RUNS; run++) {
      const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: url });
      ctx.setDefaultTimeout(60_000);
      await ctx.request.post('/api/auth/sign-in/email', { data: { email, password } });
      const page = await ctx.newPage();
      await page.goto(`/experiments/${id}?tab=rollouts&mode=train&step=0`);
      const first = page.locator('[data-testid="rollout-row"]').first();
      await first.waitFor();
      // Warm KaTeX and highlight.js once per context, as a reader opening a first rollout does.
      await page.locator('[data-testid="rollout-row"]').nth(1).click();
      await page.locator('[data-testid="chat-view"] .rp-msg-body .katex').first().waitFor();
      // Timed in the page, from the click to the frame after the answer's math is typeset, so
      // the figure holds no round trips of the browser driver. The row is clicked without
      // hovering it first (hovering fetches the rollout ahead): the cold path.
      render.push(
        await page.evaluate(
          () =>
            new Promise((resolve) => {
              const row = document.querySelector('[data-testid="rollout-row"]');
              const id = row.getAttribute('data-id');
              const done = () => {
                const v = document.querySelector('[data-testid="chat-view"]');
                return v && v.getAttribute('data-id') === id && v.querySelector('.rp-msg-body .katex');
              };
              const t0 = performance.now();
              const obs = new MutationObserver(() => {
                if (!done()) return;
                obs.disconnect();
                requestAnimationFrame(() => resolve(performance.now() - t0));
              });
              obs.observe(document.body, { subtree: true, childList: true, attributes: true });
              row.click();
            }),
        ),
      );
      const t1 = await page.evaluate(() => performance.now());
      await page.locator('[data-testid="reasoning"] summary').first().click();
      // The first screen: the formulas at the top of the trace typeset.
      await page.waitForFunction(() => {
        const r = document.querySelector('[data-testid="reasoning"] .rp-reasoning-body');
        return r && r.querySelectorAll('.math .katex').length >= 12;
      });
      firstScreen.push((await page.evaluate(() => performance.now())) - t1);
      await page.waitForFunction(() => {
        const r = document.querySelector('[data-testid="reasoning"] .rp-reasoning-body');
        return r && !r.querySelector('.math.pending') && r.querySelector('.katex') && r.querySelector('pre code.hljs');
      });
      reasoning.push((await page.evaluate(() => performance.now())) - t1);
      for (const to of [1, 2, 3].filter((s) => s < STEPS)) {
        const box = page.locator('[data-testid="step-input"]');
        await box.fill(String(to));
        const t2 = await page.evaluate(() => performance.now());
        await box.press('Enter');
        await page.waitForFunction((s) => {
          const rows = document.querySelectorAll('[data-testid="rollout-row"]');
          return rows.length > 0 && new URLSearchParams(location.search).get('step') === String(s) && !document.querySelector('.rp-loading');
        }, to);
        stepSwitch.push((await page.evaluate(() => performance.now())) - t2);
      }
      await ctx.close();
    }
    await browser.close();
    console.log('| figure | median (ms) | runs |');
    console.log('|---|---|---|');
    console.log(`| open a 30 KB math rollout: answer typeset | ${median(render).toFixed(0)} | ${render.length} |`);
    console.log(`| open its reasoning: the first screen typeset | ${median(firstScreen).toFixed(0)} | ${firstScreen.length} |`);
    console.log(`| open its reasoning: all 30 KB typeset and highlighted | ${median(reasoning).toFixed(0)} | ${reasoning.length} |`);
    console.log(`| switch to a step of ${PER_STEP} rollouts of 20 KB: first page shown | ${median(stepSwitch).toFixed(0)} | ${stepSwitch.length} |`);
  } finally {
    proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
