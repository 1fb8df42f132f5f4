// Debian's Chromium driven by playwright-core (never a downloaded browser):
// one browser and one fresh context per test file, signed in through the UI
// form. Every test fails on an uncaught page error or an unexpected console
// error, which includes Content-Security-Policy violations.
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { env } from './env';
import { outDir } from './fixture';

export const chromiumPath = '/usr/bin/chromium';
export const launchArgs = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];

export interface Session {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page since the last test. */
  pageErrors: string[];
  /** console.error messages since the last test (network status lines excluded). */
  consoleErrors: string[];
  /** alert/confirm/prompt messages since the last test; all are accepted. */
  dialogs: string[];
}

/** `[data-testid="id"]` */
export const tid = (id: string): string => `[data-testid="${id}"]`;

/**
 * Chromium logs every 4xx/5xx as "Failed to load resource"; the UI makes some
 * on purpose (a wrong password is a 401), so those lines are not errors here.
 */
function isNetworkLine(text: string): boolean {
  return text.startsWith('Failed to load resource');
}

function watchPage(s: Session, page: Page): void {
  page.on('pageerror', (err) => s.pageErrors.push(`${err.name}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !isNetworkLine(msg.text())) s.consoleErrors.push(msg.text());
  });
  page.on('dialog', (d) => {
    s.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.accept().catch(() => undefined);
  });
}

/**
 * Call at the top of a test file: a browser and context for the file's tests,
 * signed in unless signIn is false. Returns a session filled in by beforeAll.
 */
export function useBrowser(opts: { signIn?: boolean } = {}): Session {
  const s = { pageErrors: [], consoleErrors: [], dialogs: [] } as unknown as Session;
  beforeAll(async () => {
    s.browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: launchArgs });
    s.context = await s.browser.newContext({ baseURL: env().url, viewport: { width: 1440, height: 900 } });
    // A missing element fails in 10 s, not Playwright's 30: the suite stays fast when a page is broken.
    s.context.setDefaultTimeout(10_000);
    // Record CSP violations in the page too, so a test can name what was blocked.
    await s.context.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
      });
    });
    s.context.on('page', (p) => watchPage(s, p));
    s.page = await s.context.newPage();
    if (opts.signIn !== false) await signIn(s.page);
  });
  afterEach(() => {
    const pageErrors = s.pageErrors.splice(0);
    const consoleErrors = s.consoleErrors.splice(0);
    s.dialogs.splice(0);
    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
    expect(consoleErrors, 'console errors in the page').toEqual([]);
  });
  afterAll(async () => {
    await s.context?.close();
    await s.browser?.close();
  });
  return s;
}

/** Sign in through the form, as a user would, and wait for the app shell. */
export async function signIn(page: Page, email = env().email, password = env().password): Promise<void> {
  await page.goto('/sign-in');
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(password);
  await page.locator(tid('auth-submit')).click();
  await page.locator(tid('user-email')).waitFor();
}

/** Full-page PNG in ui/test-output/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  // From the top: a full-page capture of a scrolled page paints the sticky top bar mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
}

/** The numeric value of an attribute (NaN when absent). */
export async function numAttr(loc: Locator, name: string): Promise<number> {
  const v = await loc.getAttribute(name);
  return v === null ? NaN : Number(v);
}

/** The page's path and query, for URL-state assertions. */
export function urlOf(page: Page): URL {
  return new URL(page.url());
}

/** Wait for the page's URL to satisfy f (the router changes it with pushState, not a load). */
export async function waitForUrl(page: Page, f: (u: URL) => boolean, timeout = 10_000): Promise<void> {
  await poll(() => f(new URL(page.url())), { timeout, message: `URL never matched; last ${page.url()}` }).toBe(true);
}

/**
 * expect.poll with a timeout fit for a browser (vitest's default is 1 s): a
 * page that loads, fetches and renders gets 10 s before the test fails.
 */
export function poll<T>(fn: () => T | Promise<T>, opts: { timeout?: number; message?: string } = {}) {
  return expect.poll(fn, { timeout: 10_000, interval: 50, ...opts });
}

/**
 * Hover a chart's plot until its read-out matches re. A chart is rebuilt when its axis changes
 * and drawn only once in view, so its plot may be replaced between finding it and moving there.
 */
export function hoverReadout(page: Page, chart: Locator, re: RegExp) {
  return poll(async () => {
    const box = await chart.locator('.u-over').first().boundingBox();
    if (!box) return '';
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    return chart.locator('.chart-readout').innerText();
  }).toMatch(re);
}
