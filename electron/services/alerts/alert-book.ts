// Which alerts are open, and what became of the ones that closed. Given the conditions that
// hold now, it raises each key once, keeps it open (updating its sentence) while its condition
// holds, resolves it only after the condition stayed away for a while (so a wobble does not
// close and reopen it), and reopens a key that comes back soon after it resolved with its old
// raisedAt, so a flapping device is one alert, not one per flap.
import type { Alert } from '../../../shared/model';
import type { Condition } from './alert-policy';

export interface OpenAlert {
  alert: Alert;
  resolvedMessage: string;
}

/** What survives a restart. */
export interface AlertBookState {
  open: OpenAlert[];
  history: Alert[];
  /** Keys resolved lately, so one that comes back soon is reopened rather than raised anew. */
  recent: { key: string; raisedAt: number; resolvedAt: number }[];
}

export interface AlertBookOptions {
  /** How long a condition must stay away before its alert resolves (hysteresis). */
  settleMs: number;
  /** A key that comes back within this of resolving is reopened quietly (the rate limit). */
  reopenWithinMs: number;
  historyLimit: number;
}

export const DEFAULT_BOOK_OPTIONS: AlertBookOptions = {
  settleMs: 60_000,
  reopenWithinMs: 30 * 60_000,
  historyLimit: 100,
};

export const emptyBook = (): AlertBookState => ({ open: [], history: [], recent: [] });

export class AlertBook {
  readonly #options: AlertBookOptions;
  readonly #open = new Map<string, OpenAlert>();
  #history: Alert[];
  #recent: AlertBookState['recent'];
  /** Since when an open alert's condition has been away; in memory: a restart starts afresh. */
  readonly #clearSince = new Map<string, number>();

  constructor(state: AlertBookState, options: AlertBookOptions = DEFAULT_BOOK_OPTIONS) {
    this.#options = options;
    for (const o of state.open) this.#open.set(o.alert.key, structuredClone(o));
    this.#history = structuredClone(state.history);
    this.#recent = structuredClone(state.recent);
  }

  /**
   * Applies the conditions that hold at `now`; an open alert `known` cannot judge is left as it
   * is. True when anything the owner sees changed. */
  apply(
    conditions: readonly Condition[],
    now: number,
    known: (alert: Alert) => boolean = () => true,
  ): boolean {
    let changed = false;
    const holding = new Set<string>();
    for (const c of conditions) {
      holding.add(c.key);
      const open = this.#open.get(c.key);
      if (open) {
        this.#clearSince.delete(c.key);
        const next = { ...open.alert, ...alertFields(c) };
        if (JSON.stringify(next) !== JSON.stringify(open.alert)) changed = true;
        this.#open.set(c.key, { alert: next, resolvedMessage: c.resolvedMessage });
        continue;
      }
      if (c.keepOnly || now - c.since < c.raiseAfterMs) continue;
      this.#open.set(c.key, {
        alert: { ...alertFields(c), raisedAt: this.#reopened(c.key, now) ?? now, resolvedAt: null },
        resolvedMessage: c.resolvedMessage,
      });
      changed = true;
    }
    for (const [key, open] of this.#open) {
      if (holding.has(key)) continue;
      if (!known(open.alert)) {
        this.#clearSince.delete(key);
        continue;
      }
      const since = this.#clearSince.get(key) ?? now;
      this.#clearSince.set(key, since);
      if (now - since < this.#options.settleMs) continue;
      this.#resolve(open, now);
      changed = true;
    }
    this.#recent = this.#recent.filter((r) => now - r.resolvedAt < this.#options.reopenWithinMs);
    return changed;
  }

  open(): Alert[] {
    return [...this.#open.values()].map((o) => structuredClone(o.alert));
  }

  history(): Alert[] {
    return structuredClone(this.#history);
  }

  state(): AlertBookState {
    return structuredClone({
      open: [...this.#open.values()],
      history: this.#history,
      recent: this.#recent,
    });
  }

  #resolve(open: OpenAlert, now: number): void {
    const { alert } = open;
    this.#open.delete(alert.key);
    this.#clearSince.delete(alert.key);
    const entry: Alert = {
      ...alert,
      severity: 'info',
      message: open.resolvedMessage,
      action: null,
      resolvedAt: now,
    };
    this.#history = [entry, ...this.#history].slice(0, this.#options.historyLimit);
    this.#recent = [
      ...this.#recent.filter((r) => r.key !== alert.key),
      { key: alert.key, raisedAt: alert.raisedAt, resolvedAt: now },
    ];
  }

  /** The old raisedAt of a key that resolved lately; its premature "resolved" note goes. */
  #reopened(key: string, now: number): number | null {
    const recent = this.#recent.find(
      (r) => r.key === key && now - r.resolvedAt < this.#options.reopenWithinMs,
    );
    if (!recent) return null;
    this.#recent = this.#recent.filter((r) => r !== recent);
    this.#history = this.#history.filter(
      (h) => !(h.key === key && h.resolvedAt === recent.resolvedAt),
    );
    return recent.raisedAt;
  }
}

function alertFields(c: Condition): Omit<Alert, 'raisedAt' | 'resolvedAt'> {
  return {
    key: c.key,
    kind: c.kind,
    severity: c.severity,
    message: c.message,
    action: c.action,
    ...(c.deviceId === undefined ? {} : { deviceId: c.deviceId }),
    ...(c.appId === undefined ? {} : { appId: c.appId }),
  };
}
