// A bounded look for SSH on the computer's own directly connected /24s: a fixed set of
// targets, a concurrency limit, progress, and a prompt stop on cancel.
import { HearthError } from '../../../shared/errors';

export interface ScanProgress {
  done: number;
  total: number;
}

export interface ScanOptions<T> {
  targets: readonly string[];
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void;
  /** Probes one address; resolves with a result, or undefined when nothing is there. */
  probe: (address: string, signal: AbortSignal) => Promise<T | undefined>;
  onFound?: (address: string, result: T) => void;
}

/** Resolves with everything found; rejects with CANCELLED if the signal aborts. */
export async function runScan<T>(options: ScanOptions<T>): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const total = options.targets.length;
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) inner.abort();
  let next = 0;
  let done = 0;
  options.onProgress?.({ done, total });
  const worker = async () => {
    while (!inner.signal.aborted) {
      const index = next++;
      const address = options.targets[index];
      if (address === undefined) return;
      try {
        const result = await options.probe(address, inner.signal);
        if (result !== undefined && !inner.signal.aborted) {
          found.set(address, result);
          options.onFound?.(address, result);
        }
      } catch {
        // Nothing usable at this address.
      }
      if (inner.signal.aborted) return;
      done++;
      options.onProgress?.({ done, total });
    }
  };
  try {
    const workers = Array.from(
      { length: Math.max(1, Math.min(options.concurrency, total)) },
      worker,
    );
    await Promise.all(workers);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (options.signal?.aborted) throw new HearthError('CANCELLED');
  return found;
}
