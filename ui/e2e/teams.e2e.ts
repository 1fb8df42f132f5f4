// Teams in the browser: an owner makes a project and invites a labmate by
// email; the labmate signs up with that email and finds the project; as a
// viewer they read its run with no control that would change it, and a run
// they may not see is a not-found page that offers another account.
import { describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { apiFetch, env } from './env';
import { chromiumPath, launchArgs, screenshot, signIn, tid, useBrowser, poll } from './browser';

const s = useBrowser(); // the owner (the e2e account, also the server's admin)
const stamp = Date.now();
const projectName = `lab-${stamp}`;
const labmate = `labmate-${stamp}@example.com`;
const labmatePassword = 'labmate password 1';
let projectId = 0;
let runId = '';

// The labmate's own browser.
let other: Browser;
let page2: Page;
beforeAll(async () => {
  other = await chromium.launch({ executablePath: chromiumPath, headless: true, args: launchArgs });
  const ctx = await other.newContext({ baseURL: env().url, viewport: { width: 1440, height: 900 } });
  ctx.setDefaultTimeout(10_000);
  page2 = await ctx.newPage();
});
afterAll(async () => {
  await other?.close();
});

describe('teams', () => {
  test('an owner makes a project and invites a labmate, who signs up and finds it', async () => {
    const { page } = s;
    await page.goto('/projects');
    await page.locator(tid('project-name')).fill(projectName);
    await page.locator(tid('project-create')).click();
    await page.locator(tid('member-add-form')).waitFor();
    projectId = Number(/\/projects\/(\d+)/.exec(page.url())![1]);
    expect(await page.locator(tid('project-role')).innerText()).toBe('owner');

    await page.locator(tid('member-email')).fill(labmate);
    await page.locator(tid('member-role')).selectOption('editor');
    await page.locator(tid('member-add')).click();
    const row = page.locator(tid('member-row'), { hasText: labmate });
    await row.waitFor();
    expect(await row.innerText()).toContain('invited');
    // Change the role to viewer from the list.
    await row.locator(tid('member-role-select')).selectOption('viewer');
    await poll(async () => (await apiFetch<{ members: { email: string; role: string }[] }>('GET', `/api/projects/${projectId}/members`)).members.find((m) => m.email === labmate)?.role).toBe('viewer');
    await screenshot(page, 'project-members');

    // The labmate signs up with the invited email, in their own browser.
    await page2.goto('/sign-up');
    await page2.locator('input[name=email]').fill(labmate);
    await page2.locator('input[name=password]').fill(labmatePassword);
    await page2.locator(tid('auth-submit')).click();
    await page2.locator(tid('user-email')).waitFor();
    await page2.goto('/projects');
    const theirs = page2.locator(tid('project-row'), { hasText: projectName });
    await theirs.waitFor();
    expect(await theirs.innerText()).toContain('viewer');
    // On the owner's page the invitation is now a member.
    await page.reload();
    await poll(async () => (await page.locator(tid('member-row'), { hasText: labmate }).innerText()).includes('invited')).toBe(false);
  });

  test("a viewer's page reads the project's run and offers no control that changes it", async () => {
    // The owner's training job logs into the project by name.
    const made = await apiFetch<{ experimentId: string }>('POST', '/api/experiments', { name: 'shared-grpo', project: projectName, tags: [`team-${stamp}`] });
    runId = made.experimentId;
    await apiFetch('POST', `/api/experiments/${runId}/scalars`, {
      scalars: [0, 1, 2].map((step) => ({ step, mode: 'train', name: 'loss', value: 1 / (step + 1) })),
    });

    await page2.goto(`/?project=${projectId}`);
    const row = page2.locator(tid('exp-row'), { hasText: 'shared-grpo' });
    await row.waitFor();
    expect(await page2.locator(tid('exps-project')).innerText()).toContain('viewer');
    await row.locator(tid('exp-select')).check();
    expect(await page2.locator(tid('delete-selected')).count(), 'a viewer sees no delete').toBe(0);

    await page2.goto(`/experiments/${runId}`);
    await page2.locator(tid('exp-name')).waitFor();
    expect(await page2.locator(tid('exp-name')).innerText()).toBe('shared-grpo');
    expect(await page2.locator(tid('exp-role')).innerText()).toBe('viewer');
    expect(await page2.locator(tid('exp-latest-step')).innerText()).toBe('2');
    for (const control of ['exp-rename', 'exp-status-toggle', 'exp-labels-edit']) {
      expect(await page2.locator(tid(control)).count(), `a viewer sees no ${control}`).toBe(0);
    }
    await screenshot(page2, 'viewer-experiment');

    // The owner sees the same page with its controls, and edits the tags.
    const { page } = s;
    await page.goto(`/experiments/${runId}`);
    await page.locator(tid('exp-labels-edit')).click();
    await page.locator(tid('exp-tags-input')).fill(`team-${stamp}, shared`);
    await page.locator(tid('exp-notes-input')).fill('β = 0.04');
    await page.locator(tid('exp-labels-save')).click();
    await poll(async () => (await apiFetch<{ tags: string[]; notes: string }>('GET', `/api/experiments/${runId}`)).tags.join(',')).toBe(`team-${stamp},shared`);
    expect((await apiFetch<{ notes: string }>('GET', `/api/experiments/${runId}`)).notes).toBe('β = 0.04');
    expect(await page.locator(tid('exp-rename')).count()).toBe(1);
  });

  test('a run the account may not see is not found, with a way to sign in as someone else', async () => {
    // The owner's personal run, which the labmate is not a member of.
    const mine = env().facts.baseline.id;
    await page2.goto(`/experiments/${mine}`);
    await page2.locator(tid('not-found')).waitFor();
    expect(await page2.locator(tid('not-found-email')).innerText()).toBe(labmate);
    await page2.locator(tid('switch-account')).click();
    await page2.waitForURL((u) => u.pathname === '/sign-in');
    // Signing in as the owner lands on the run.
    await signIn(page2);
    await page2.goto(`/experiments/${mine}`);
    await page2.locator(tid('exp-name')).waitFor();
    expect(await page2.locator(tid('exp-name')).innerText()).toBe(env().facts.baseline.name);
  });
});
