// What Hearth remembers about backups on this computer: where the repository is, whether the
// owner kept the recovery kit, and per app its schedule, destination and last results. One
// document in the atomic store; the password itself is only ever in the key vault.
import { z } from 'zod';
import type { BackupSchedule } from '../../../shared/model';
import type { AtomicJsonStore } from '../store/atomic-json-store';
import { DEFAULT_SCHEDULE } from './backup-schedule';

const DOC = 'backups';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * The newest point a run saved, and what its data was: the next run makes no new snapshot when
 * every volume's stat identity is the same, the device's hash of each new copy is this sha256,
 * image and spec.json are the same, and this snapshot is still in the repository.
 */
const lastPointSchema = z.object({
  snapshotId: z.string().regex(/^[0-9a-f]{8,64}$/),
  takenAt: z.number(),
  imageSha256: sha256,
  specSha256: sha256,
  volumes: z
    .array(
      z.object({
        name: z.string(),
        sizeBytes: z.number().int().nonnegative(),
        sha256,
        /** null when the device did not say: such a point is never skipped from. */
        identity: z
          .object({
            sizeBytes: z.number().int().nonnegative(),
            mtime: z.string(),
            ctime: z.string(),
            inode: z.string(),
          })
          .nullable(),
      }),
    )
    .max(16),
});

export type LastPoint = z.infer<typeof lastPointSchema>;

const appStateSchema = z.object({
  firstSeenAt: z.number(),
  schedule: z.object({ enabled: z.boolean(), everyHours: z.number().int().min(1) }),
  destination: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('computer') }),
    z.object({ kind: z.literal('device'), deviceId: z.string() }),
  ]),
  lastBackupAt: z.number().nullable(),
  lastFailureAt: z.number().nullable(),
  lastError: z.string().nullable(),
  lastVerifiedAt: z.number().nullable(),
  lastFullCheckAt: z.number().nullable(),
  sizeBytes: z.number().nullable(),
  lastDrill: z
    .object({ at: z.number(), ok: z.boolean(), message: z.string().nullable() })
    .nullable(),
  /** Absent in documents written before runs could be skipped. */
  lastPoint: lastPointSchema.nullable().default(null),
});

export type AppBackupState = z.infer<typeof appStateSchema>;

const docSchema = z.object({
  repository: z
    .object({ path: z.string(), kitConfirmed: z.boolean(), createdAt: z.number() })
    .nullable(),
  apps: z.record(z.string(), appStateSchema),
});

export type BackupDoc = z.infer<typeof docSchema>;

export const appKey = (deviceId: string, appId: string) => `${deviceId}/${appId}`;

export function newAppState(
  now: number,
  schedule: BackupSchedule = DEFAULT_SCHEDULE,
): AppBackupState {
  return {
    firstSeenAt: now,
    schedule: { ...schedule },
    destination: { kind: 'computer' },
    lastBackupAt: null,
    lastFailureAt: null,
    lastError: null,
    lastVerifiedAt: null,
    lastFullCheckAt: null,
    sizeBytes: null,
    lastDrill: null,
    lastPoint: null,
  };
}

/** The document, read once and then kept in memory; every change is saved before it is seen. */
export class BackupStateStore {
  readonly #store: AtomicJsonStore;
  #doc: Promise<BackupDoc> | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: AtomicJsonStore) {
    this.#store = store;
  }

  read(): Promise<BackupDoc> {
    this.#doc ??= this.#store
      .load(DOC, docSchema, () => ({ repository: null, apps: {} }))
      .then((r) => r.value);
    return this.#doc.then((d) => structuredClone(d));
  }

  /** Applies `change` to a copy, saves it, and only then makes it the current state. */
  update(change: (doc: BackupDoc) => void): Promise<BackupDoc> {
    const next = this.#queue.then(async () => {
      const doc = await this.read();
      change(doc);
      const valid = docSchema.parse(doc);
      await this.#store.save(DOC, valid);
      this.#doc = Promise.resolve(valid);
      return structuredClone(valid);
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** One app's state, created with the defaults the first time it is asked for. */
  async app(deviceId: string, appId: string, now: number): Promise<AppBackupState> {
    const doc = await this.read();
    const found = doc.apps[appKey(deviceId, appId)];
    if (found) return found;
    const created = await this.update((d) => {
      d.apps[appKey(deviceId, appId)] ??= newAppState(now);
    });
    return created.apps[appKey(deviceId, appId)]!;
  }

  async updateApp(
    deviceId: string,
    appId: string,
    now: number,
    change: (app: AppBackupState) => void,
  ): Promise<AppBackupState> {
    const doc = await this.update((d) => {
      const app = (d.apps[appKey(deviceId, appId)] ??= newAppState(now));
      change(app);
    });
    return doc.apps[appKey(deviceId, appId)]!;
  }
}
