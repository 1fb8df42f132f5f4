// Series fetches wait their turn: a page of 50 charts must not open 50
// requests at once, which would queue in the browser anyway and make the
// visible charts wait behind the hidden ones.

export class FetchQueue {
  private running = 0;
  /** One list per priority, 0 first. */
  private waiting: { run: () => void; signal?: AbortSignal }[][] = [[], []];

  constructor(private readonly limit = 6) {}

  /**
   * Run f when a slot is free, priority 0 jobs before priority 1 (detail
   * waits behind every chart's overview). An aborted job that never started
   * rejects without running.
   */
  run<T>(f: () => Promise<T>, signal?: AbortSignal, priority = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        if (signal?.aborted) {
          reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
          this.next();
          return;
        }
        this.running++;
        f().then(resolve, reject).finally(() => {
          this.running--;
          this.next();
        });
      };
      if (this.running < this.limit) start();
      else this.waiting[priority > 0 ? 1 : 0].push({ run: start, signal });
    });
  }

  private next(): void {
    while (this.running < this.limit) {
      const job = this.waiting[0].shift() ?? this.waiting[1].shift();
      if (!job) return;
      job.run();
      // An aborted job rejects synchronously and calls next itself.
      if (job.signal?.aborted) return;
    }
  }
}

/** The page-wide queue every chart's series fetch goes through. */
export const seriesQueue = new FetchQueue(6);
