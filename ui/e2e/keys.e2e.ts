// API keys: the secret is shown once as an export line, it works against the
// API, and revoking it removes the row and stops the key working.
import { describe, expect, test } from 'vitest';
import { env } from './env';
import { screenshot, tid, useBrowser, poll } from './browser';

const s = useBrowser();

async function meStatus(key: string): Promise<number> {
  const res = await fetch(`${env().url}/api/me`, { headers: { Authorization: `Bearer ${key}` } });
  return res.status;
}

const keyLine = /export EXPT_LOGGER_API_KEY=(expt_[A-Za-z0-9_-]{43})/;
let secret = '';
const keyName = `ci-runner-${Date.now()}`;

describe('api keys', () => {
  test('creating a key shows its export line once, and the key works', async () => {
    const { page, context } = s;
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/keys');
    await page.locator(tid('key-name')).waitFor();
    // The list loads after the form: count only once it shows (global setup made one key).
    await page.locator(tid('key-row')).first().waitFor();
    const before = await page.locator(tid('key-row')).count();

    await page.locator(tid('key-name')).fill(keyName);
    await page.locator(tid('key-create')).click();
    const box = page.locator(tid('new-key'));
    await box.waitFor();
    const m = keyLine.exec(await box.innerText());
    expect(m, 'the new-key box holds `export EXPT_LOGGER_API_KEY=expt_…`').not.toBeNull();
    secret = m![1];
    await poll(() => page.locator(tid('key-row')).count()).toBe(before + 1);
    await poll(() => page.locator(tid('key-row'), { hasText: keyName }).count()).toBe(1);

    await page.locator(tid('copy-key')).click();
    await poll(() => page.evaluate(() => navigator.clipboard.readText())).toContain(secret);

    expect(await meStatus(secret)).toBe(200);
    await screenshot(page, 'keys');

    // Only its hash is kept: after a reload the secret is nowhere on the page.
    await page.reload();
    await page.locator(tid('key-row'), { hasText: keyName }).waitFor();
    expect(await page.locator(tid('new-key')).count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain(secret);
  });

  test('revoking a key removes its row and the key stops working', async () => {
    const { page } = s;
    const row = page.locator(tid('key-row'), { hasText: keyName });
    const id = await row.getAttribute('data-id');
    expect(id).toBeTruthy();
    await row.locator(tid('key-revoke')).click();
    // The page may ask to confirm in the row (key-revoke-yes) before revoking.
    const yes = row.locator(tid('key-revoke-yes'));
    await poll(async () => (await yes.count()) > 0 || (await row.count()) === 0).toBe(true);
    if ((await yes.count()) > 0) await yes.click();
    await poll(() => page.locator(`${tid('key-row')}[data-id="${id}"]`).count()).toBe(0);
    expect(await meStatus(secret)).toBe(401);
    // The key global-setup made is another row and still works.
    expect(await meStatus(env().apiKey)).toBe(200);
    await page.reload();
    await page.locator(tid('key-name')).waitFor();
    await page.locator(tid('key-row')).first().waitFor();
    expect(await page.locator(`${tid('key-row')}[data-id="${id}"]`).count()).toBe(0);
  });
});
