// Live updates: a separate Python process plays a training job (e2e/live.py).
// While the experiment page is open, a new point and a new rollout it logs
// appear without a reload, and ending the run turns the status to complete.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { env } from './env';
import { python, uiDir } from './fixture';
import { numAttr, tid, useBrowser, waitForUrl, poll } from './browser';

const s = useBrowser();

let job: ChildProcessWithoutNullStreams;
let lines: AsyncIterator<string>;
let stderr = '';
let id = '';
const spool = mkdtempSync(path.join(os.tmpdir(), 'expt-ui-live-'));

async function nextLine(): Promise<string> {
  const r = await lines.next();
  if (r.done) throw new Error(`live.py ended early:\n${stderr}`);
  return r.value;
}

/** Send one command to the job and wait until it is on the server. */
async function send(cmd: unknown): Promise<void> {
  job.stdin.write(JSON.stringify(cmd) + '\n');
  expect(await nextLine()).toBe('ok');
}

beforeAll(async () => {
  job = spawn(python, [path.join(uiDir, 'e2e', 'live.py')], {
    env: { ...process.env, EXPT_LOGGER_API_KEY: env().apiKey, EXPT_LOGGER_BASE_URL: env().url, EXPT_LOGGER_DIR: spool },
  });
  job.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  lines = createInterface({ input: job.stdout })[Symbol.asyncIterator]();
  id = (JSON.parse(await nextLine()) as { id: string }).id;
});

afterAll(async () => {
  if (job.exitCode === null) {
    job.stdin.end();
    await new Promise((r) => job.once('exit', r));
  }
  rmSync(spool, { recursive: true, force: true });
});

/** Set in the page: still there later means the page was never reloaded. */
const mark = () => s.page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));
const marked = () => s.page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded === true);

describe('live', () => {
  test('a point logged while the chart is open is drawn without a reload', async () => {
    const { page } = s;
    await page.goto(`/experiments/${id}`);
    const loss = page.locator(`${tid('chart')}[data-mode="train"][data-name$="loss"]`);
    await poll(() => numAttr(loss, 'data-points')).toBe(10);
    await poll(async () => (await page.locator(tid('exp-status')).innerText()).toLowerCase()).toContain('active');
    await mark();

    await send({ metrics: { 'train/loss': 0.05 }, step: 10 });
    await poll(() => numAttr(loss, 'data-points'), { timeout: 15_000 }).toBe(11);
    // A new metric gets its own chart, live as well.
    await send({ metrics: { 'train/entropy': 1.5 }, step: 11 });
    await page.locator(`${tid('chart')}[data-mode="train"][data-name$="entropy"]`).waitFor({ timeout: 15_000 });
    expect(await marked()).toBe(true);
  });

  test('a rollout logged at the latest step appears in the open table', async () => {
    const { page } = s;
    await page.locator(tid('tab-rollouts')).click();
    await waitForUrl(page, (u) => u.searchParams.get('tab') === 'rollouts');
    await page.locator(tid('step-input')).fill('9');
    await page.locator(tid('step-input')).press('Enter');
    await waitForUrl(page, (u) => u.searchParams.get('step') === '9');
    const rows = page.locator(tid('rollout-row'));
    await poll(() => rows.count()).toBe(4);
    await send({
      rollout: {
        prompt: 'Count to three.',
        messages: [{ role: 'assistant', content: 'one, two, three, and a late arrival' }],
        rewards: { correctness: 1.0 },
        step: 9,
      },
    });
    await poll(() => rows.count(), { timeout: 15_000 }).toBe(5);
    await poll(() => page.locator('main').innerText()).toContain('late arrival');
    expect(await marked()).toBe(true);
  });

  test('ending the run turns the status to complete', async () => {
    const { page } = s;
    job.stdin.end();
    const code = await new Promise<number | null>((r) => job.once('exit', r));
    expect(code, stderr).toBe(0);
    await poll(async () => (await page.locator(tid('exp-status')).innerText()).toLowerCase(), { timeout: 15_000 }).toContain('complete');
    expect(await marked()).toBe(true);
  });
});
