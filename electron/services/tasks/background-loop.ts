// Work that loops in the background until stopped (the backup schedule, the catalog refresh,
// the update sweep): started at most once, with one abort signal per run that stop() fires.
export class BackgroundLoop {
  readonly #body: (signal: AbortSignal) => Promise<void>;
  #stop: AbortController | null = null;

  constructor(body: (signal: AbortSignal) => Promise<void>) {
    this.#body = body;
  }

  start(): void {
    if (this.#stop) return;
    const stop = new AbortController();
    this.#stop = stop;
    void this.#body(stop.signal);
  }

  stop(): void {
    this.#stop?.abort();
    this.#stop = null;
  }
}
