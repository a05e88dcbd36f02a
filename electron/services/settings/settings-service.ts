// The owner's preferences, validated on the way in and kept in the atomic store.
import { settingsSchema } from '../../../shared/schemas';
import type { Settings } from '../../../shared/model';
import type { AtomicJsonStore } from '../store/atomic-json-store';

export const defaultSettings: Settings = {
  theme: 'system',
  welcomeDone: false,
  allowUnprotectedKey: false,
  startAtLogin: false,
  closeToTrayNoticeShown: false,
};

export class SettingsService {
  readonly #store: AtomicJsonStore;
  readonly #publish: (settings: Settings) => void;
  #current: Promise<Settings> | null = null;

  constructor(store: AtomicJsonStore, publish: (settings: Settings) => void) {
    this.#store = store;
    this.#publish = publish;
  }

  get(): Promise<Settings> {
    this.#current ??= this.#store
      .load('settings', settingsSchema, () => ({ ...defaultSettings }))
      .then((r) => r.value);
    return this.#current.then((s) => ({ ...s }));
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = settingsSchema.parse({ ...(await this.get()), ...patch });
    // Saved before it is reported, so what the UI shows is what survives a crash.
    await this.#store.save('settings', next);
    this.#current = Promise.resolve(next);
    this.#publish({ ...next });
    return { ...next };
  }
}
