/** Sends notices (channel, payload pairs) in one statement, in order, all or none. */
export type SendNotices = (channels: string[], payloads: string[]) => Promise<void>;

interface Pending {
  channel: string;
  payload: string;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Natural batching of NOTIFYs: while one statement is in flight, later notices queue, and when it
 * returns everything queued goes out in the next statement. There is no timer: a lone notice is
 * sent at once (after the current microtasks, so notices of one tick share a statement), and a
 * burst costs one round trip and one PostgreSQL transaction per batch instead of one per notice.
 *
 * Order is kept: one statement at a time, and within one PostgreSQL delivers notices in the order
 * sent. A statement never holds the same (channel, payload) twice, because PostgreSQL delivers
 * identical notices of one transaction only once: a repeat starts the next batch.
 */
export class NoticeBatcher {
  private queue: Pending[] = [];
  private sending = false;

  /** @param maxBatch notices per statement at most (bounds one statement's size). */
  constructor(
    private readonly send: SendNotices,
    private readonly maxBatch = 500,
  ) {}

  /** Resolves once PostgreSQL has accepted the notice; rejects with that notice's own error. */
  notify(channel: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ channel, payload, resolve, reject });
      if (this.sending) return;
      this.sending = true;
      queueMicrotask(() => void this.pump());
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) await this.sendBatch(this.takeBatch());
    this.sending = false;
  }

  private takeBatch(): Pending[] {
    const seen = new Set<string>();
    let n = 0;
    for (; n < this.queue.length && n < this.maxBatch; n++) {
      const key = `${this.queue[n]!.channel}\u0000${this.queue[n]!.payload}`;
      if (seen.has(key)) break;
      seen.add(key);
    }
    return this.queue.splice(0, n);
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    try {
      await this.send(
        batch.map((p) => p.channel),
        batch.map((p) => p.payload),
      );
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // The statement sent nothing (it is one transaction): one notice per statement, so a bad
      // notice (e.g. over PostgreSQL's payload limit) fails alone, not its neighbours.
      for (const p of batch) await this.sendBatch([p]);
    }
  }
}
