// What Hearth remembers per app about updates, on this computer: "update automatically" or "ask
// me" (the default), and which version it last started by itself, so an automatic update is
// tried once per version, not again after it failed or rolled back, nor after a restart.
import { z } from 'zod';
import type { UpdatePolicy } from '../../../shared/model';
import type { AtomicJsonStore } from '../store/atomic-json-store';

const DOC = 'update-policies';

const entrySchema = z.object({
  policy: z.enum(['ask', 'auto']),
  autoStartedVersion: z.string().max(64).nullable(),
});
const docSchema = z.object({ apps: z.record(z.string(), entrySchema) });
type Doc = z.infer<typeof docSchema>;
export type UpdatePolicyEntry = z.infer<typeof entrySchema>;

export const policyKey = (deviceId: string, appId: string): string => `${deviceId}/${appId}`;
const fresh = (): UpdatePolicyEntry => ({ policy: 'ask', autoStartedVersion: null });

export class UpdatePolicyStore {
  readonly #store: AtomicJsonStore;
  #doc: Promise<Doc> | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: AtomicJsonStore) {
    this.#store = store;
  }

  async policy(deviceId: string, appId: string): Promise<UpdatePolicy> {
    return (await this.entry(deviceId, appId)).policy;
  }

  async entry(deviceId: string, appId: string): Promise<UpdatePolicyEntry> {
    return { ...((await this.#read()).apps[policyKey(deviceId, appId)] ?? fresh()) };
  }

  setPolicy(deviceId: string, appId: string, policy: UpdatePolicy): Promise<void> {
    return this.#update((doc) => {
      const entry = (doc.apps[policyKey(deviceId, appId)] ??= fresh());
      entry.policy = policy;
      return true;
    }).then(() => undefined);
  }

  /** Records that Hearth starts `version` by itself; false when it already did for that version. */
  claimAutoStart(deviceId: string, appId: string, version: string): Promise<boolean> {
    return this.#update((doc) => {
      const entry = (doc.apps[policyKey(deviceId, appId)] ??= fresh());
      if (entry.autoStartedVersion === version) return false;
      entry.autoStartedVersion = version;
      return true;
    });
  }

  #read(): Promise<Doc> {
    this.#doc ??= this.#store.load(DOC, docSchema, () => ({ apps: {} })).then((r) => r.value);
    const doc = this.#doc;
    // A failed read (the disk) is not kept: the next call tries again.
    doc.catch(() => {
      if (this.#doc === doc) this.#doc = null;
    });
    return doc;
  }

  /** Changes a copy and saves it; only then is it what others read. */
  #update(change: (doc: Doc) => boolean): Promise<boolean> {
    const next = this.#queue.then(async () => {
      const doc = structuredClone(await this.#read());
      if (!change(doc)) return false;
      await this.#store.save(DOC, doc);
      this.#doc = Promise.resolve(doc);
      return true;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
