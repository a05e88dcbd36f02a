// What this computer remembers about updates: per app, the transaction it started (so a
// recovery after a crash can name the versions) and how the last one ended (the sentence the
// owner is shown, also after Hearth restarts). One document in the atomic store.
import { z } from 'zod';
import type { UpdateOutcome } from '../../../shared/model';
import type { AtomicJsonStore } from '../store/atomic-json-store';

const DOC = 'update-history';

const pendingSchema = z.object({
  id: z.string(),
  name: z.string(),
  fromVersion: z.string(),
  toVersion: z.string(),
  startedAt: z.number(),
  /** When the data was copied: what a rollback returns it to. */
  dataAt: z.number().nullable(),
});
export type PendingUpdate = z.infer<typeof pendingSchema>;

const outcomeSchema = z.object({
  at: z.number(),
  kind: z.enum(['updated', 'rolled-back', 'went-back', 'failed']),
  message: z.string(),
});

const docSchema = z.object({
  apps: z.record(
    z.string(),
    z.object({ pending: pendingSchema.nullable(), lastOutcome: outcomeSchema.nullable() }),
  ),
});
type Doc = z.infer<typeof docSchema>;

const keyOf = (deviceId: string, appId: string) => `${deviceId}/${appId}`;

export class UpdateHistory {
  readonly #store: AtomicJsonStore;
  #doc: Promise<Doc> | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: AtomicJsonStore) {
    this.#store = store;
  }

  async #read(): Promise<Doc> {
    this.#doc ??= this.#store.load(DOC, docSchema, () => ({ apps: {} })).then((r) => r.value);
    return structuredClone(await this.#doc);
  }

  /** Loads the document, so outcome() answers at once afterwards. */
  async load(): Promise<void> {
    this.#cache = await this.#read();
  }

  #cache: Doc = { apps: {} };

  outcome(deviceId: string, appId: string): UpdateOutcome | null {
    return this.#cache.apps[keyOf(deviceId, appId)]?.lastOutcome ?? null;
  }

  pending(deviceId: string, appId: string): PendingUpdate | null {
    return this.#cache.apps[keyOf(deviceId, appId)]?.pending ?? null;
  }

  #change(deviceId: string, appId: string, f: (a: Doc['apps'][string]) => void): Promise<void> {
    const next = this.#queue.then(async () => {
      const doc = await this.#read();
      const app = (doc.apps[keyOf(deviceId, appId)] ??= { pending: null, lastOutcome: null });
      f(app);
      const valid = docSchema.parse(doc);
      await this.#store.save(DOC, valid);
      this.#doc = Promise.resolve(valid);
      this.#cache = structuredClone(valid);
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  setPending(deviceId: string, appId: string, pending: PendingUpdate | null): Promise<void> {
    return this.#change(deviceId, appId, (a) => (a.pending = pending));
  }

  /** The transaction ended: it is no longer pending, and this is what the owner is told. */
  settle(deviceId: string, appId: string, outcome: UpdateOutcome): Promise<void> {
    return this.#change(deviceId, appId, (a) => {
      a.pending = null;
      a.lastOutcome = outcome;
    });
  }
}
