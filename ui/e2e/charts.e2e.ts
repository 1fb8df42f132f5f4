// The charts tab: one section per mode plus rewards, one chart per metric,
// series and points as logged, smoothing, log scale, zoom, click-through.
import { describe, expect, test } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { env } from './env';
import { hoverReadout, numAttr, screenshot, tid, useBrowser, waitForUrl, poll } from './browser';

const s = useBrowser();

const section = (page: Page, mode: string) => page.locator(`${tid('chart-section')}[data-mode="${mode}"]`);
/** A chart's data-name without its mode prefix. */
const bare = (mode: string, name: string | null) => (name ?? '').replace(new RegExp(`^${mode}/`), '');

/** The chart's drawn pixels (its canvas area), to see that a control redrew it. */
async function pixels(c: Locator): Promise<Buffer> {
  // A chart swaps its canvas when detail replaces the overview; a screenshot racing that swap
  // finds the old element detached, so look the canvas up again and retry.
  for (let attempt = 0; ; attempt++) {
    try {
      const canvas = c.locator('canvas').first();
      return (await canvas.count()) > 0 ? await canvas.screenshot() : await c.screenshot();
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('not attached')) throw err;
    }
  }
}

/** Wait until the chart's pixels differ from before (each try is a fresh screenshot). */
async function redrawn(c: Locator, before: Buffer): Promise<Buffer> {
  let now = before;
  await poll(async () => !(now = await pixels(c)).equals(before), { timeout: 10_000 }).toBe(true);
  return now;
}

/** Settle: two stable screenshots in a row (uPlot draws on the next frame). */
async function settled(c: Locator): Promise<Buffer> {
  let last = await pixels(c);
  await expect
    .poll(async () => {
      const next = await pixels(c);
      const same = next.equals(last);
      last = next;
      return same;
    })
    .toBe(true);
  return last;
}

/** Set a range input by keyboard, as a user would: Home is its minimum, End its maximum. */
async function slide(slider: Locator, key: 'Home' | 'End'): Promise<void> {
  await slider.focus();
  await slider.press(key);
}

describe('charts', () => {
  test('one section per mode, train first, eval second, then rewards; one chart per metric', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    await page.goto(`/experiments/${grpo.id}`);
    await section(page, 'train').waitFor();
    await section(page, 'rewards').waitFor();
    const modes = await page.locator(tid('chart-section')).evaluateAll((ss) => ss.map((x) => x.getAttribute('data-mode')));
    expect(modes.slice(0, 2)).toEqual(['train', 'eval']);
    expect(modes).toContain('rewards');

    for (const [mode, metrics] of Object.entries(grpo.metrics)) {
      const charts = section(page, mode).locator(tid('chart'));
      await poll(() => charts.count()).toBe(Object.keys(metrics).length);
      const names = await charts.evaluateAll((cs) => cs.map((c) => c.getAttribute('data-name')));
      expect(names.map((n) => bare(mode, n)).sort()).toEqual(Object.keys(metrics).sort());
      for (const [name, logged] of Object.entries(metrics)) {
        const c = section(page, mode).locator(`${tid('chart')}[data-name="${name}"], ${tid('chart')}[data-name="${mode}/${name}"]`);
        expect(await c.getAttribute('data-mode')).toBe(mode);
        // Charts draw when they come near the viewport, as a user scrolls.
        await c.scrollIntoViewIfNeeded();
        // Downsampled by the server at most, never more points than were logged.
        await poll(() => numAttr(c, 'data-points')).toBeGreaterThan(0);
        expect(await numAttr(c, 'data-points')).toBeLessThanOrEqual(logged);
        expect(await numAttr(c, 'data-series')).toBeGreaterThanOrEqual(1);
      }
    }

    // One reward chart per reward name and rollout mode, a point per step that has rollouts.
    const rewards = section(page, 'rewards').locator(tid('chart'));
    const rmodes = Object.keys(grpo.rollouts);
    await poll(() => rewards.count()).toBe(grpo.rewardNames.length * rmodes.length);
    const keys = await rewards.evaluateAll((cs) => cs.map((c) => `${c.getAttribute('data-mode')}/${c.getAttribute('data-name')}`));
    expect(keys.sort()).toEqual(rmodes.flatMap((m) => grpo.rewardNames.map((n) => `${m}/${n}`)).sort());
    for (const c of await rewards.all()) {
      await c.scrollIntoViewIfNeeded();
      const steps = Object.keys(grpo.rollouts[(await c.getAttribute('data-mode'))!]).length;
      await poll(() => numAttr(c, 'data-points')).toBeGreaterThan(0);
      expect(await numAttr(c, 'data-points')).toBeLessThanOrEqual(steps);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'experiment-charts');
  });

  test('the smoothing slider redraws every chart and is kept in the URL', async () => {
    const { page } = s;
    const loss = section(page, 'train').locator(`${tid('chart')}[data-name$="loss"]`);
    const slider = page.locator(`input[type=range]${tid('smoothing')}`);
    expect(await slider.count()).toBe(1);
    expect(Number(await slider.getAttribute('min'))).toBe(0);
    expect(Number(await slider.getAttribute('max'))).toBeCloseTo(0.99);

    await slide(slider, 'Home');
    await page.mouse.move(0, 0);
    const scalarCharts = await page.locator(`${tid('chart-section')}:not([data-mode="rewards"]) ${tid('chart')}`).all();
    expect(scalarCharts.length).toBeGreaterThan(1);
    const before = await Promise.all(scalarCharts.map(settled));
    const raw = await settled(loss);
    await slide(slider, 'End');
    await waitForUrl(page, (u) => Number(u.searchParams.get('smooth')) === 0.99);
    // Shared by all charts on the page: each one is redrawn, except a sparse
    // one (under 50 points), which stays raw: smoothing would move its few points.
    let sparse = 0;
    for (let i = 0; i < scalarCharts.length; i++) {
      if ((await numAttr(scalarCharts[i], 'data-points')) >= 50) await redrawn(scalarCharts[i], before[i]);
      else {
        sparse++;
        expect((await settled(scalarCharts[i])).equals(before[i]), 'a sparse chart stays raw').toBe(true);
      }
    }
    expect(sparse, 'the fill has sparse eval charts').toBeGreaterThan(0);

    // The value survives a reload from the URL, and the drawing with it.
    await page.reload();
    await loss.waitFor();
    await poll(() => slider.inputValue()).toBe('0.99');
    await poll(() => numAttr(loss, 'data-points')).toBeGreaterThan(0);
    await page.mouse.move(0, 0);
    expect((await settled(loss)).equals(raw)).toBe(false);

    await slide(slider, 'Home');
    await waitForUrl(page, (u) => !u.searchParams.get('smooth') || Number(u.searchParams.get('smooth')) === 0);
  });

  test('log scale and zoom redraw one chart; reset restores it', async () => {
    const { page } = s;
    const loss = section(page, 'train').locator(`${tid('chart')}[data-name$="loss"]`);
    await page.mouse.move(0, 0);
    const linear = await settled(loss);
    await loss.locator(tid('log-toggle')).click();
    await page.mouse.move(0, 0);
    await redrawn(loss, linear);
    await loss.locator(tid('log-toggle')).click();
    await page.mouse.move(0, 0);
    const back = await settled(loss);

    // Drag across the middle of the plot to zoom in on x: with zoom synced
    // (the default) the KL chart follows, and the reset resets both.
    const kl = section(page, 'train').locator(`${tid('chart')}[data-name$="kl"]`);
    const klBack = await settled(kl);
    const drag = async () => {
      const over = loss.locator('.u-over').first();
      const box = (await over.count()) > 0 ? await over.boundingBox() : await loss.locator('canvas').first().boundingBox();
      expect(box).not.toBeNull();
      const y = box!.y + box!.height / 2;
      await page.mouse.move(box!.x + box!.width * 0.3, y);
      await page.mouse.down();
      await page.mouse.move(box!.x + box!.width * 0.5, y, { steps: 5 });
      await page.mouse.up();
      await page.mouse.move(0, 0);
    };
    await drag();
    await redrawn(loss, back);
    await redrawn(kl, klBack);
    await loss.locator(tid('zoom-reset')).click();
    await page.mouse.move(0, 0);
    await poll(async () => (await pixels(loss)).equals(back)).toBe(true);
    await poll(async () => (await pixels(kl)).equals(klBack)).toBe(true);

    // Unsynced: zooming the loss leaves the KL alone.
    await page.locator(tid('zoom-sync')).uncheck();
    await waitForUrl(page, (u) => u.searchParams.get('zoomsync') === '0');
    await drag();
    await redrawn(loss, back);
    expect((await settled(kl)).equals(klBack)).toBe(true);
    await loss.locator(tid('zoom-reset')).click();
    await page.locator(tid('zoom-sync')).check();
  });

  test('clicking a point opens the rollouts of that step', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    const rewardChart = section(page, 'rewards').locator(tid('chart')).first();
    await rewardChart.scrollIntoViewIfNeeded();
    await poll(() => numAttr(rewardChart, 'data-points')).toBeGreaterThan(0);
    const over = rewardChart.locator('.u-over').first();
    const target = (await over.count()) > 0 ? over : rewardChart.locator('canvas').first();
    const box = (await target.boundingBox())!;
    // The right edge of the plot is the latest step with rollouts.
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
    await waitForUrl(page, (u) => u.searchParams.get('tab') === 'rollouts');
    const u = new URL(page.url());
    expect(u.searchParams.get('mode')).toBe('train');
    expect(Object.keys(grpo.rollouts.train)).toContain(u.searchParams.get('step'));
    await page.locator(tid('rollout-row')).first().waitFor();

    // From a scalar chart: any step in the logged range.
    await page.goto(`/experiments/${grpo.id}?tab=charts`);
    const loss = section(page, 'train').locator(`${tid('chart')}[data-name$="loss"]`);
    await poll(() => numAttr(loss, 'data-points')).toBeGreaterThan(0);
    const lover = loss.locator('.u-over').first();
    const lb = (await ((await lover.count()) > 0 ? lover : loss.locator('canvas').first()).boundingBox())!;
    await page.mouse.move(lb.x + lb.width / 2, lb.y + lb.height / 2);
    await page.mouse.click(lb.x + lb.width / 2, lb.y + lb.height / 2);
    await waitForUrl(page, (v) => v.searchParams.get('tab') === 'rollouts');
    const v = new URL(page.url());
    expect(v.searchParams.get('mode')).toBe('train');
    const step = Number(v.searchParams.get('step'));
    expect(Number.isInteger(step) && step >= 0 && step <= grpo.latestStep).toBe(true);
  });

  test('the x axis: wall or relative time, in the URL; a click still opens its step', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    await page.goto(`/experiments/${grpo.id}?tab=charts`);
    const loss = section(page, 'train').locator(`${tid('chart')}[data-name$="loss"]`);
    await poll(() => numAttr(loss, 'data-points')).toBeGreaterThan(0);
    const hoverUntil = (chart: Locator, re: RegExp) => hoverReadout(page, chart, re);
    await page.locator(tid('x-axis')).selectOption('relative');
    await waitForUrl(page, (u) => u.searchParams.get('x') === 'relative');
    await hoverUntil(loss, /^\+\d+(s|m|h)[^·]*· step \d+/);
    await page.locator(tid('x-axis')).selectOption('wall');
    await waitForUrl(page, (u) => u.searchParams.get('x') === 'wall');
    await hoverUntil(loss, new RegExp(`${new Date().getFullYear()}.*· step \\d+`));
    await screenshot(page, 'charts-wall-time');
    // Reward charts are per step (their summaries have no time): they keep a step axis.
    const reward = section(page, 'rewards').locator(tid('chart')).first();
    await reward.scrollIntoViewIfNeeded();
    await hoverUntil(reward, /^step \d+/);
    await loss.scrollIntoViewIfNeeded();
    await hoverUntil(loss, /· step \d+/);
    const b = (await loss.locator('.u-over').first().boundingBox())!;
    await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
    await waitForUrl(page, (u) => u.searchParams.get('tab') === 'rollouts');
    const step = Number(new URL(page.url()).searchParams.get('step'));
    expect(Number.isInteger(step) && step >= 0 && step <= grpo.latestStep).toBe(true);
    expect(new URL(page.url()).searchParams.get('x')).toBe('wall');
    await page.goto(`/experiments/${grpo.id}?tab=charts`);
  });

  test('reward distributions: a heatmap per reward with quantiles, from the server', async () => {
    const { page } = s;
    const { grpo } = env().facts;
    await page.goto(`/experiments/${grpo.id}`);
    const maps = page.locator(tid('reward-heatmap'));
    await maps.first().scrollIntoViewIfNeeded();
    await poll(() => maps.count()).toBe(grpo.rewardNames.length * Object.keys(grpo.rollouts).length);
    const train = page.locator(`${tid('reward-heatmap')}[data-mode="train"][data-name="${grpo.rewardNames[0]}"]`);
    // One column per step with rollouts (fewer steps than pixels: no merging).
    await poll(() => train.getAttribute('data-buckets')).toBe(String(Object.keys(grpo.rollouts.train).length));
    expect(Number.isFinite(Number(await train.getAttribute('data-p50-last')))).toBe(true);
    const cv = train.locator('canvas');
    const box = (await cv.boundingBox())!;
    await page.mouse.move(box.x + box.width - 12, box.y + box.height / 2);
    await poll(() => train.locator(tid('heatmap-readout')).innerText()).toMatch(/^step \d+: \d+ samples · p10 .* · p50 .* · p90 /);
    // Something is drawn.
    const painted = await cv.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(500);

    // Response lengths: one heatmap per mode; its last p50 is the
    // nearest-rank median of the last step's lengths, counted by the server.
    const len = page.locator(`${tid('length-heatmap')}[data-mode="train"]`);
    await poll(() => len.getAttribute('data-buckets')).toBe(String(Object.keys(grpo.rollouts.train).length));
    const steps = Object.keys(grpo.lengths.train).map(Number).sort((a, b) => a - b);
    const last = [...grpo.lengths.train[String(steps[steps.length - 1])]].sort((a, b) => a - b);
    expect(Number(await len.getAttribute('data-p50-last'))).toBe(last[Math.ceil(0.5 * last.length) - 1]);
    await poll(() => page.locator(tid('length-heatmap')).count()).toBe(Object.keys(grpo.rollouts).length);
    await screenshot(page, 'reward-distributions');
  });
});
