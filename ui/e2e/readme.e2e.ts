// The README's "Using it for real" steps, run as written on a fresh home
// directory: serve, make your account, make a key for it, run the demo. The
// person who followed them then opens the demo's URL in the browser, signs
// in with the password the steps printed, and sees the run. Only the
// build and the SDK install are left out (the suite already built bin/expt
// and installed the SDK into .venv), and `python` is the venv's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { python, repoDir } from './fixture';
import { screenshot, tid, useBrowser } from './browser';

const s = useBrowser({ signIn: false });
const home = mkdtempSync(path.join(os.tmpdir(), 'expt-readme-'));
afterAll(() => {
  spawnSync('bash', ['-c', `kill $(cat ${home}/serve.pid) 2>/dev/null; true`]);
  rmSync(home, { recursive: true, force: true });
});

/** The shell lines of the README block that follows "Using it for real:". */
function readmeSteps(): string[] {
  const readme = readFileSync(path.join(repoDir, 'README.md'), 'utf8');
  const block = /Using it for real:\s*```bash\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no "Using it for real:" bash block');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim())
    .filter(Boolean);
}

describe('README', () => {
  test('the steps for real use end with a run its user opens in the browser', async () => {
    const steps = readmeSteps();
    expect(steps.some((l) => l.startsWith('bin/expt users create'))).toBe(true);
    const script = ['set -euo pipefail', `cd ${repoDir}`];
    for (const line of steps) {
      if (line === 'make build' || line.startsWith('pip install')) continue;
      if (line.startsWith('bin/expt serve')) {
        // Its log goes to a file: a background job holding this script's stdout would keep it open.
        script.push(line.replace(/&$/, `> ${home}/serve.log 2>&1 &`));
        // The step runs it in the background; wait until it answers before the next.
        script.push(`echo $! > ${home}/serve.pid`);
        script.push(
          `for i in $(seq 100); do ${python} -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health')" 2>/dev/null && break; sleep 0.1; done`,
        );
        continue;
      }
      script.push(line.replace(/^python /, `${python} `));
    }
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EXPT_')));
    const r = spawnSync('bash', ['-c', script.join('\n')], { env: { ...env, HOME: home, XDG_DATA_HOME: '' }, encoding: 'utf8', timeout: 120_000 });
    const log = readFileSync(path.join(home, 'serve.log'), 'utf8');
    expect(r.status, `the README steps failed:\n${r.stderr}\n${r.stdout}\nserver: ${log}`).toBe(0);
    const password = /^[A-Za-z0-9]{20}$/m.exec(r.stdout)?.[0];
    const url = /(http:\/\/127\.0\.0\.1:8080\/experiments\/[0-9a-f-]{36})/.exec(r.stdout)?.[1];
    expect(password, `no password printed:\n${r.stdout}`).toBeTruthy();
    expect(url, `no experiment URL printed:\n${r.stdout}`).toBeTruthy();

    const { page } = s;
    await page.goto(url!);
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await page.locator('input[name=email]').fill('you@lab.org');
    await page.locator('input[name=password]').fill(password!);
    await page.locator(tid('auth-submit')).click();
    await page.locator(tid('exp-name')).waitFor();
    expect(new URL(page.url()).pathname).toBe(new URL(url!).pathname);
    expect(await page.locator(tid('exp-latest-step')).innerText()).not.toBe('—');
    await screenshot(page, 'readme-run');
  }, 150_000);
});
