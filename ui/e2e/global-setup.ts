// Starts the real `expt serve` (bin/expt, which embeds ui/dist) on a free
// loopback port with a temporary data directory, makes an account and an API
// key over HTTP, fills it with the Python SDK (e2e/fill.py), and hands all of
// it to the test files. Teardown stops the server with SIGTERM and removes the
// directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { outDir, python, repoDir, uiDir, type E2E, type Facts } from './fixture';

const bin = path.join(repoDir, 'bin', 'expt');

function need(file: string, fix: string): void {
  if (!existsSync(file)) throw new Error(`e2e: ${path.relative(repoDir, file)} is missing; run \`${fix}\` in ${repoDir} first`);
}

/** Resolves with the URL from the server's "expt listening on http://ADDR" line. */
function listening(proc: ChildProcess, log: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => fail(new Error(`expt serve printed no listening line in 30 s:\n${buf}`)), 30_000);
    function fail(err: Error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(err);
    }
    proc.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (done) return;
      buf += chunk.toString();
      const m = /expt listening on (http:\/\/\S+)/.exec(buf);
      if (m) {
        done = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code, sig) => fail(new Error(`expt serve exited (${code ?? sig}) before listening:\n${buf}`)));
    proc.on('error', (err) => fail(err));
  });
}

async function post(url: string, body: unknown, cookie?: string): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res;
}

function run(cmd: string, args: string[], envVars: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...envVars }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${err}${out}`))));
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  need(bin, 'make build');
  need(path.join(uiDir, 'dist', 'index.html'), 'make build');
  need(python, 'make venv');
  mkdirSync(outDir, { recursive: true });

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'expt-ui-e2e-'));
  // The server's log goes next to the screenshots, for reading after a failure.
  const log = createWriteStream(path.join(outDir, 'server.log'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EXPT_')));
  const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', path.join(tmp, 'data')], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => server.on('exit', () => resolve()));

  async function teardown() {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        server.kill('SIGKILL');
        await exited;
      }
    }
    log.end();
    rmSync(tmp, { recursive: true, force: true });
  }

  try {
    const url = await listening(server, log);
    const email = 'e2e@example.com';
    const password = 'correct horse battery';
    const signUp = await post(`${url}/api/auth/sign-up/email`, { email, password, name: 'E2E Tester' });
    const cookie = (signUp.headers.get('set-cookie') ?? '').split(';')[0];
    if (!cookie) throw new Error('sign-up set no session cookie');
    const { key } = (await (await post(`${url}/api/api-keys`, { name: 'e2e-fill' }, cookie)).json()) as { key: string };

    const out = await run(python, [path.join(uiDir, 'e2e', 'fill.py')], {
      EXPT_LOGGER_API_KEY: key,
      EXPT_LOGGER_BASE_URL: url,
      EXPT_LOGGER_DIR: path.join(tmp, 'spool'),
      // The fixtures' sections and counts are exact; system samples would add a section of their own.
      EXPT_LOGGER_SYSTEM_METRICS: '0',
    });
    const facts = JSON.parse(out.trim().split('\n').pop()!) as Facts;

    // fill.py ended every run; e2e-grpo plays a run that is still training.
    const res = await fetch(`${url}/api/experiments/${facts.grpo.id}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'active' }),
    });
    if (!res.ok) throw new Error(`mark e2e-grpo active: ${res.status} ${await res.text()}`);

    const e2e: E2E = { url, email, password, apiKey: key, facts };
    project.provide('e2e', e2e);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
