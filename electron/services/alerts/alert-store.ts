// The alert book on disk: open alerts, the bounded history and lately resolved keys, so a
// restart of Hearth neither forgets an alert nor raises it again. One atomic-store document.
import { z } from 'zod';
import type { AtomicJsonStore } from '../store/atomic-json-store';
import type { AlertBookState } from './alert-book';
import { emptyBook } from './alert-book';

const DOC = 'alerts';

const alertSchema = z.object({
  key: z.string(),
  kind: z.enum([
    'device-offline',
    'device-identity-changed',
    'device-disk-full',
    'device-needs-preparing',
    'app-crashed',
    'app-restarting',
    'app-gave-up',
    'backup-failed',
    'backup-overdue',
    'drill-failed',
    'update-available',
    'update-rolled-back',
  ]),
  severity: z.enum(['info', 'warning', 'problem']),
  message: z.string(),
  action: z
    .object({
      label: z.string(),
      target: z.object({
        view: z.enum(['devices', 'apps', 'backups', 'activity']),
        deviceId: z.string().optional(),
        appId: z.string().optional(),
        show: z.enum(['console', 'prepare-again']).optional(),
      }),
    })
    .nullable(),
  raisedAt: z.number(),
  resolvedAt: z.number().nullable(),
  deviceId: z.string().optional(),
  appId: z.string().optional(),
});

const docSchema = z.object({
  open: z.array(z.object({ alert: alertSchema, resolvedMessage: z.string() })),
  history: z.array(alertSchema),
  recent: z.array(z.object({ key: z.string(), raisedAt: z.number(), resolvedAt: z.number() })),
});

export class AlertStore {
  readonly #store: AtomicJsonStore;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: AtomicJsonStore) {
    this.#store = store;
  }

  async load(): Promise<AlertBookState> {
    const { value } = await this.#store.load(DOC, docSchema, emptyBook);
    return value;
  }

  /** Saves in order: a later state never lands before an earlier one. */
  save(state: AlertBookState): Promise<void> {
    const next = this.#queue.then(() => this.#store.save(DOC, docSchema.parse(state)));
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
