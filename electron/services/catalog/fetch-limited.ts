// Fetching a small document (a catalog) from the network with a deadline and a size
// cap, so a slow or hostile server can neither hang Hearth nor fill its memory.
import { HearthError } from '../../../shared/errors';
import { catalogTooLarge, fetchFailed, urlRefused } from './catalog-errors';
import { urlProblem } from './catalog-url';

/** The part of fetch() Hearth uses; injectable so tests and the lab can stand in. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers?: Record<string, string>; redirect?: 'follow' },
) => Promise<Response>;

/** The server answered, with an HTTP error: the cause of the fetchFailed sentence. */
export class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

export interface FetchLimits {
  fetch?: FetchLike;
  timeoutMs?: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** Names the thing in messages: "the app catalog". */
  what: string;
  /** e.g. Accept: application/json, for a service that answers HTML by default. */
  headers?: Record<string, string>;
}

export async function fetchLimited(url: string, limits: FetchLimits): Promise<Buffer> {
  const doFetch = limits.fetch ?? globalThis.fetch;
  const timeout = AbortSignal.timeout(limits.timeoutMs ?? 30_000);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  try {
    const response = await doFetch(url, {
      signal,
      redirect: 'follow',
      ...(limits.headers ? { headers: limits.headers } : {}),
    });
    // A redirect may not lead somewhere the address itself would not be allowed to go.
    const problem = response.url ? urlProblem(response.url) : null;
    if (problem) {
      await response.body?.cancel().catch(() => undefined);
      throw urlRefused(`Hearth did not use ${limits.what}: it was redirected and ${problem}.`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw fetchFailed(limits.what, new HttpStatusError(response.status));
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw catalogTooLarge(limits.maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (response.body) {
      for await (const value of response.body) {
        const chunk = value as Uint8Array;
        total += chunk.byteLength;
        if (total > limits.maxBytes) {
          throw catalogTooLarge(limits.maxBytes);
        }
        chunks.push(Buffer.from(chunk));
      }
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    if (limits.signal?.aborted) throw new HearthError('CANCELLED', undefined, { cause: error });
    if (error instanceof HearthError) throw error;
    throw fetchFailed(limits.what, error);
  }
}
