#!/usr/bin/env node
// UI speed benchmark, run by hand (`make bench-ui`, or `node bench/open.mjs -h` in ui/).
//
// Starts bin/expt on a fresh data directory (or reuses one given with --data),
// fills it over HTTP in big batches, then measures in Debian's Chromium:
//
//   open    an experiment with --metrics (50) metrics x --steps (100,000) steps.
//           "drawn": from navigation start until every chart whose box meets the
//             viewport has drawn its data (data-points > 0 and pixels on its canvas);
//           "smoothing": from a change of the smoothing slider until every one of
//             those charts has redrawn (its canvas pixels changed);
//           "interactive": drawn + smoothing, i.e. navigation start until the page has
//             shown its charts and answered the first control the user touches.
//   step    with --rollouts (1,000,000) rollouts stored in one experiment (8 prompts,
//           --group (16) samples each per step, ~1 KB of text, 3 rewards): from typing a
//           step in the step box and pressing Enter until the table shows that step's rows.
//
// Each is measured --runs (5) times, every open in a fresh browser context (cold
// cache, new session), and the medians are printed as a table on stdout.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(uiDir, '..');

const { values: opt } = parseArgs({
  options: {
    metrics: { type: 'string', default: '50' },
    steps: { type: 'string', default: '100000' },
    rollouts: { type: 'string', default: '1000000' },
    group: { type: 'string', default: '16' },
    runs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    'scalar-batch': { type: 'string', default: '50000' },
    'rollout-batch': { type: 'string', default: '1000' },
    bin: { type: 'string', default: path.join(repoDir, 'bin', 'expt') },
    data: { type: 'string' },
    headed: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/open.mjs [flags]
  --metrics N        metrics in the chart experiment (50)
  --steps N          steps per metric (100000)
  --rollouts N       rollouts in the rollout experiment (1000000)
  --group N          samples per prompt per step; 8 prompts per step (16)
  --runs N           measurements per figure; medians are printed (5)
  --concurrency N    parallel fill requests (4)
  --scalar-batch N   points per scalar request (50000)
  --rollout-batch N  rollouts per request (1000)
  --bin PATH         the expt binary (../bin/expt; run \`make build\` first)
  --data DIR         keep the server's data here and reuse it when it was filled with the same sizes
  --headed           show the browser`);
  process.exit(0);
}
const N = {
  metrics: int('metrics'),
  steps: int('steps'),
  rollouts: int('rollouts'),
  group: int('group'),
  runs: int('runs'),
  concurrency: int('concurrency'),
  scalarBatch: int('scalar-batch'),
  rolloutBatch: int('rollout-batch'),
};
const PROMPTS = 8;
const VIEWPORT = { width: 1440, height: 900 };

function int(name) {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < 1) die(`--${name} must be a positive integer, got ${opt[name]}`);
  return v;
}

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

const log = (msg) => console.error(`[${(performance.now() / 1000).toFixed(1)}s] ${msg}`);

// ---- server -------------------------------------------------------------------------------------

function startServer(dataDir) {
  if (!existsSync(opt.bin)) die(`${opt.bin} is missing; run \`make build\` in ${repoDir}`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EXPT_')));
  const proc = spawn(opt.bin, ['serve', '--addr', '127.0.0.1:0', '--data', dataDir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stderr.on('data', (c) => {
      buf += c.toString();
      const m = /expt listening on (http:\/\/\S+)/.exec(buf);
      if (m && !proc.url) {
        proc.url = m[1];
        resolve(proc);
      }
      if (buf.length > 1 << 16) buf = buf.slice(-4096);
    });
    proc.on('exit', (code) => reject(new Error(`expt serve exited (${code}):\n${buf}`)));
  });
}

async function stopServer(proc) {
  if (proc.exitCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await done;
}

async function call(url, method, body, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Run jobs (functions returning promises) with at most `limit` in flight. */
async function pool(jobs, limit, onDone) {
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < jobs.length) {
      const j = jobs[next++];
      await j();
      onDone?.(++done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

// ---- data ---------------------------------------------------------------------------------------

/** 50 names as a trainer logs them: train/*, eval/*, perf/* (three chart sections). */
function metricNames(n) {
  const train = ['loss', 'kl', 'reward', 'reward_std', 'entropy', 'grad_norm', 'lr', 'clip_frac', 'advantage_mean', 'response_len'];
  const evals = ['accuracy', 'pass_at_1', 'pass_at_8', 'reward', 'response_len'];
  const perf = ['tokens_per_s', 'step_time', 'gpu_mem', 'gen_time', 'update_time'];
  const out = [];
  for (let i = 0; out.length < n; i++) {
    const round = Math.floor(i / 20);
    const k = i % 20;
    const [mode, base] = k < 10 ? ['train', train[k]] : k < 15 ? ['eval', evals[k - 10]] : ['perf', perf[k - 15]];
    out.push({ mode, name: round === 0 ? base : `${base}_${round}` });
  }
  return out;
}

/** A small fast PRNG (mulberry32), so fills are the same every time. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = `the a of to and in is it that for on with as was be by this are or an from at which not have has but
all were when we there can more if will one what so out about up into them some only other then its also two time
could than first been these way may after over new most answer compute number value step reward model policy token
sample group prompt solve check therefore because equation integer result final proof assume suppose hence total
each every given find show prove let where sum product square root prime divide multiply subtract add minus plus
equal greater less function variable matrix vector probability expected distribution random optimal`.split(/\s+/);

function prose(r, bytes) {
  let s = '';
  while (s.length < bytes) s += (s ? ' ' : '') + WORDS[Math.floor(r() * WORDS.length)];
  return s;
}

async function fillScalars(url, auth) {
  const { json } = await call(`${url}/api/experiments`, 'POST', { name: `bench-${N.metrics}x${N.steps}`, config: { bench: 'open' } }, auth);
  const id = json.experimentId;
  const names = metricNames(N.metrics);
  const stepsPerBatch = Math.max(1, Math.floor(N.scalarBatch / names.length));
  const jobs = [];
  for (let from = 0; from < N.steps; from += stepsPerBatch) {
    const to = Math.min(N.steps, from + stepsPerBatch);
    jobs.push(async () => {
      const parts = [];
      for (let s = from; s < to; s++) {
        for (let m = 0; m < names.length; m++) {
          // A noisy decay per metric, different for each.
          const v = Math.exp(-s / (20000 + 1000 * m)) + 0.05 * Math.sin(s / (50 + m)) + 0.02 * (((s * 7919 + m * 104729) % 1000) / 1000);
          parts.push(`{"step":${s},"mode":"${names[m].mode}","name":"${names[m].name}","value":${v}}`);
        }
      }
      await call(`${url}/api/experiments/${id}/scalars`, 'POST', `{"scalars":[${parts.join(',')}]}`, { ...auth, 'Idempotency-Key': `s-${from}` });
    });
  }
  const t0 = performance.now();
  await pool(jobs, N.concurrency, (d) => d % 10 === 0 && log(`scalars: ${d}/${jobs.length} batches`));
  const secs = (performance.now() - t0) / 1000;
  log(`scalars: ${names.length * N.steps} points in ${secs.toFixed(1)} s`);
  return { id, fillSeconds: secs };
}

async function fillRollouts(url, auth) {
  const { json } = await call(`${url}/api/experiments`, 'POST', { name: `bench-${N.rollouts}-rollouts`, config: { bench: 'rollouts' } }, auth);
  const id = json.experimentId;
  const perStep = PROMPTS * N.group;
  const steps = Math.ceil(N.rollouts / perStep);
  const r0 = rng(7);
  const prompts = Array.from({ length: PROMPTS }, (_, i) => `Problem ${i + 1}: ${prose(r0, 200)}?`);
  const jobs = [];
  for (let from = 0; from < N.rollouts; from += N.rolloutBatch) {
    const to = Math.min(N.rollouts, from + N.rolloutBatch);
    jobs.push(async () => {
      const r = rng(from + 1);
      const items = [];
      for (let i = from; i < to; i++) {
        const step = Math.floor(i / perStep);
        const p = Math.floor((i % perStep) / N.group);
        items.push({
          step,
          mode: 'train',
          promptText: prompts[p],
          messages: [
            { role: 'user', content: prompts[p] },
            { role: 'assistant', content: `Let me think. ${prose(r, 800)}. The answer is ${Math.floor(r() * 100)}.` },
          ],
          rewards: { correctness: r() < 0.4 ? 1 : 0, format: r() < 0.8 ? 1 : 0.5, length_penalty: -Math.round(r() * 1000) / 1000 },
        });
      }
      await call(`${url}/api/experiments/${id}/rollouts`, 'POST', { rollouts: items }, { ...auth, 'Idempotency-Key': `r-${from}` });
    });
  }
  const t0 = performance.now();
  await pool(jobs, N.concurrency, (d) => d % 50 === 0 && log(`rollouts: ${d}/${jobs.length} batches`));
  const secs = (performance.now() - t0) / 1000;
  log(`rollouts: ${N.rollouts} in ${secs.toFixed(1)} s`);
  return { id, steps, fillSeconds: secs };
}

async function prepare(server, dataDir) {
  const manifest = path.join(dataDir, 'bench-ui.json');
  const sizes = { metrics: N.metrics, steps: N.steps, rollouts: N.rollouts, group: N.group };
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    if (JSON.stringify(m.sizes) === JSON.stringify(sizes)) {
      log(`reusing the data in ${dataDir}`);
      return m;
    }
    throw new Error(`${dataDir} was filled with other sizes (${JSON.stringify(m.sizes)}); use another --data`);
  }
  const email = 'bench@example.com';
  const password = 'bench password 123';
  const up = await call(`${server.url}/api/auth/sign-up/email`, 'POST', { email, password });
  const cookie = (up.headers.get('set-cookie') ?? '').split(';')[0];
  const { json: k } = await call(`${server.url}/api/api-keys`, 'POST', { name: 'bench' }, { Cookie: cookie });
  const auth = { Authorization: `Bearer ${k.key}` };
  const scalars = await fillScalars(server.url, auth);
  const rollouts = await fillRollouts(server.url, auth);
  const m = { sizes, email, password, scalars, rollouts };
  writeFileSync(manifest, JSON.stringify(m));
  return m;
}

// ---- measurements -------------------------------------------------------------------------------

async function signedInContext(browser, url, m) {
  const context = await browser.newContext({ viewport: VIEWPORT, baseURL: url });
  context.setDefaultTimeout(60_000);
  const res = await context.request.post('/api/auth/sign-in/email', { data: { email: m.email, password: m.password } });
  if (!res.ok()) throw new Error(`sign in: ${res.status()} ${await res.text()}`);
  return context;
}

// In-page helpers, installed before the app runs: which charts meet the
// viewport, and a cheap fingerprint of each one's canvas pixels.
function pageHelpers() {
  window.__bench = {
    visibleCharts() {
      return [...document.querySelectorAll('[data-testid="chart"]')].filter((c) => {
        const r = c.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth && r.width > 0;
      });
    },
    fingerprint(chart) {
      let h = 0;
      for (const cv of chart.querySelectorAll('canvas')) {
        if (!cv.width || !cv.height) continue;
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        for (let i = 3; i < d.length; i += 4 * 7) h = (Math.imul(h, 31) + d[i] + d[i - 1] * 3 + (i & 255)) | 0;
      }
      return h;
    },
    blank(chart) {
      for (const cv of chart.querySelectorAll('canvas')) {
        if (!cv.width || !cv.height) continue;
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        for (let i = 3; i < d.length; i += 4 * 13) if (d[i] !== 0) return false;
      }
      return true;
    },
  };
}

async function measureOpen(browser, url, m) {
  const context = await signedInContext(browser, url, m);
  await context.addInitScript(pageHelpers);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/experiments/${m.scalars.id}`, { waitUntil: 'commit' });
  // Polled every animation frame; the time is taken inside the page when it first holds.
  await page.waitForFunction(
    () => {
      const b = window.__bench;
      const cs = b.visibleCharts();
      const drawn = cs.length > 0 && cs.every((c) => Number(c.getAttribute('data-points')) > 0 && !b.blank(c));
      if (drawn && b.drawnAt === undefined) b.drawnAt = performance.now();
      return drawn;
    },
    null,
    { polling: 'raf', timeout: 60_000 },
  );
  const r = await page.evaluate(async () => {
    const b = window.__bench;
    const cs = b.visibleCharts();
    const before = cs.map((c) => b.fingerprint(c));
    const slider = document.querySelector('input[data-testid="smoothing"]');
    if (!slider) throw new Error('no smoothing slider');
    const to = Number(slider.value) >= 0.5 ? '0.2' : '0.9';
    const t0 = performance.now();
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(slider, to);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    slider.dispatchEvent(new Event('change', { bubbles: true }));
    await new Promise((resolve, reject) => {
      const give = setTimeout(() => reject(new Error('charts did not redraw within 10 s of the smoothing change')), 10_000);
      const tick = () => {
        if (cs.every((c, i) => b.fingerprint(c) !== before[i])) {
          clearTimeout(give);
          resolve();
        } else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    return { drawn: b.drawnAt, smoothing: performance.now() - t0, charts: cs.length, all: document.querySelectorAll('[data-testid="chart"]').length };
  });
  await context.close();
  if (errors.length) throw new Error(`page errors while opening: ${errors.join('; ')}`);
  return { ...r, interactive: r.drawn + r.smoothing };
}

async function measureSteps(browser, url, m) {
  const context = await signedInContext(browser, url, m);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const steps = m.rollouts.steps;
  const r = rng(11);
  const first = Math.floor(steps / 2);
  await page.goto(`/experiments/${m.rollouts.id}?tab=rollouts&mode=train&step=${first}`);
  await page.locator('[data-testid="rollout-row"]').first().waitFor();
  const times = [];
  let prev = first;
  // One warm-up switch (first use of the code paths), then the measured ones.
  for (let i = 0; i <= N.runs; i++) {
    let step;
    do step = Math.floor(r() * steps);
    while (step === prev);
    const before = await page.locator('[data-testid="rollout-row"]').evaluateAll((rs) => rs.map((x) => x.getAttribute('data-id')));
    const input = page.locator('[data-testid="step-input"]');
    await input.fill(String(step));
    await page.evaluate(() => (window.__t0 = performance.now()));
    await input.press('Enter');
    const ms = await page.waitForFunction(
      ({ step, before }) => {
        if (new URLSearchParams(location.search).get('step') !== String(step)) return false;
        const rows = [...document.querySelectorAll('[data-testid="rollout-row"]')];
        if (rows.length === 0 || rows.some((x) => before.includes(x.getAttribute('data-id')))) return false;
        return performance.now() - window.__t0;
      },
      { step, before },
      { polling: 'raf', timeout: 30_000 },
    );
    if (i > 0) times.push(await ms.jsonValue());
    prev = step;
  }
  await context.close();
  if (errors.length) throw new Error(`page errors while switching steps: ${errors.join('; ')}`);
  return times;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

function table(rows) {
  const head = ['measure', 'median ms', 'min ms', 'max ms', 'runs', 'target'];
  const body = rows.map((r) => [r[0], ...[median(r[1]), Math.min(...r[1]), Math.max(...r[1])].map((v) => v.toFixed(0)), String(r[1].length), r[2]]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main() {
  const own = !opt.data;
  const dataDir = opt.data ? path.resolve(opt.data) : mkdtempSync(path.join(os.tmpdir(), 'expt-bench-ui-'));
  mkdirSync(dataDir, { recursive: true });
  const server = await startServer(dataDir);
  let browser;
  try {
    log(`server at ${server.url}, data in ${dataDir}`);
    const m = await prepare(server, dataDir);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: !opt.headed,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    const opens = [];
    // One unmeasured open first: the server's page cache and Chromium's code cache warm up,
    // as they are for anyone who has opened the app before.
    await measureOpen(browser, server.url, m);
    for (let i = 0; i < N.runs; i++) {
      opens.push(await measureOpen(browser, server.url, m));
      log(`open ${i + 1}: drawn ${opens[i].drawn.toFixed(0)} ms, smoothing ${opens[i].smoothing.toFixed(0)} ms (${opens[i].charts} of ${opens[i].all} charts in view)`);
    }
    const steps = await measureSteps(browser, server.url, m);
    log(`step switches: ${steps.map((t) => t.toFixed(0)).join(', ')} ms`);
    const o = opens[0];
    console.log(
      `\nexpt UI benchmark: ${N.metrics} metrics x ${N.steps} steps (${o.charts} of ${o.all} charts in a ${VIEWPORT.width}x${VIEWPORT.height} viewport); ` +
        `${N.rollouts} rollouts in ${m.rollouts.steps} steps (${PROMPTS} prompts x ${N.group} samples)\n`,
    );
    console.log(
      table([
        ['open: charts in view drawn', opens.map((x) => x.drawn), ''],
        ['open: smoothing change redrawn', opens.map((x) => x.smoothing), ''],
        ['open: interactive (sum)', opens.map((x) => x.interactive), '< 1000'],
        ['rollouts: step switch', steps, '< 200'],
      ]),
    );
    console.log(`\nfill: ${m.scalars.fillSeconds.toFixed(1)} s for ${N.metrics * N.steps} points, ${m.rollouts.fillSeconds.toFixed(1)} s for ${N.rollouts} rollouts`);
  } finally {
    await browser?.close();
    await stopServer(server);
    if (own) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => die(e.stack ?? String(e)));
