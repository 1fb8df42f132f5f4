// Accounts in the browser: redirect to sign in and back, wrong password,
// sign out, sign up (a new user sees none of the other user's runs).
import { describe, expect, test } from 'vitest';
import { env } from './env';
import { tid, useBrowser, waitForUrl, poll } from './browser';

const s = useBrowser({ signIn: false });

/** Two animation frames: whatever the last response changed has been rendered. */
const rendered = () => s.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

describe('auth', () => {
  test('a signed-out visit goes to sign in and comes back to the page after', async () => {
    const { page } = s;
    const target = `/experiments/${env().facts.grpo.id}?tab=config`;
    await page.goto(target);
    await waitForUrl(page, (u) => u.pathname === '/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe(target);

    await page.locator('input[name=email]').fill(env().email);
    await page.locator('input[name=password]').fill('not the password');
    await page.locator(tid('auth-submit')).click();
    const err = page.locator(tid('auth-error'));
    await err.waitFor();
    expect((await err.innerText()).trim().length).toBeGreaterThan(0);
    expect(new URL(page.url()).pathname).toBe('/sign-in');

    await page.locator('input[name=password]').fill(env().password);
    await page.locator(tid('auth-submit')).click();
    await waitForUrl(page, (u) => u.pathname + u.search === target);
    expect(await page.locator(tid('user-email')).innerText()).toContain(env().email);
    await page.locator(tid('tab-config')).waitFor();
  });

  test('sign out ends the session', async () => {
    const { page } = s;
    await page.locator(tid('sign-out')).click();
    await waitForUrl(page, (u) => u.pathname === '/sign-in');
    const status = await page.evaluate(async () => (await fetch('/api/me')).status);
    expect(status).toBe(401);
    await page.goto('/keys');
    await waitForUrl(page, (u) => u.pathname === '/sign-in' && u.searchParams.get('next') === '/keys');
  });

  test('sign up makes an account that sees only its own runs', async () => {
    const { page } = s;
    await page.goto('/sign-in');
    await page.locator(tid('auth-switch')).click();
    await waitForUrl(page, (u) => u.pathname === '/sign-up');
    const email = `new-${Date.now()}@example.com`;
    await page.locator('input[name=name]').fill('New Person');
    await page.locator('input[name=email]').fill(email);
    await page.locator('input[name=password]').fill('short');
    await page.locator(tid('auth-submit')).click();
    // Eight characters at least (api/openapi.yaml): the form says so, by its own
    // message or the browser's constraint validation, and no account is made.
    await poll(async () => (await page.locator(tid('auth-error')).count()) > 0 || !(await page.locator('input[name=password]').evaluate((e) => (e as HTMLInputElement).validity.valid)))
      .toBe(true);
    expect(new URL(page.url()).pathname).toBe('/sign-up');

    const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/experiments' && r.request().method() === 'GET');
    await page.locator('input[name=password]').fill('a long enough password');
    await page.locator(tid('auth-submit')).click();
    await page.locator(tid('user-email')).waitFor();
    expect(await page.locator(tid('user-email')).innerText()).toContain(email);
    await listed;
    await page.locator(tid('exp-search')).waitFor();
    await rendered();
    expect(await page.locator(tid('exp-row')).count()).toBe(0);
  });

  test('signing up again with a taken email is refused', async () => {
    const { page } = s;
    await page.locator(tid('sign-out')).click();
    await waitForUrl(page, (u) => u.pathname === '/sign-in');
    await page.goto('/sign-up');
    await page.locator('input[name=name]').fill('Someone');
    await page.locator('input[name=email]').fill(env().email);
    await page.locator('input[name=password]').fill('another long password');
    await page.locator(tid('auth-submit')).click();
    await page.locator(tid('auth-error')).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-up');
  });
});
