import { describe, expect, it } from 'vitest';
import { FetchQueue } from './queue';

function deferred() {
  let resolve!: () => void;
  const p = new Promise<void>((r) => (resolve = r));
  return { p, resolve };
}

describe('FetchQueue', () => {
  it('runs at most limit jobs at once, in order', async () => {
    const q = new FetchQueue(2);
    const started: number[] = [];
    const ds = [0, 1, 2, 3].map(() => deferred());
    const all = ds.map((d, i) =>
      q.run(async () => {
        started.push(i);
        await d.p;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    ds[1].resolve();
    await all[1];
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual([0, 1, 2]);
    ds[0].resolve();
    ds[2].resolve();
    ds[3].resolve();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3]);
  });

  it('starts waiting priority 0 jobs before priority 1', async () => {
    const q = new FetchQueue(1);
    const d = deferred();
    const order: string[] = [];
    const first = q.run(() => d.p);
    const jobs = [
      q.run(async () => void order.push('detail'), undefined, 1),
      q.run(async () => void order.push('overview'), undefined, 0),
    ];
    d.resolve();
    await first;
    await Promise.all(jobs);
    expect(order).toEqual(['overview', 'detail']);
  });

  it('skips a waiting job whose signal was aborted', async () => {
    const q = new FetchQueue(1);
    const d = deferred();
    const first = q.run(() => d.p);
    const ac = new AbortController();
    let ran = false;
    const second = q.run(async () => {
      ran = true;
    }, ac.signal);
    const third = q.run(async () => 3);
    ac.abort();
    d.resolve();
    await first;
    await expect(second).rejects.toBeDefined();
    expect(await third).toBe(3);
    expect(ran).toBe(false);
  });
});
