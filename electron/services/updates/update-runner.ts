// What the updates facade (finding updates, policies, the Apps view's status) needs from the
// part that moves an app between versions on its device: the transaction and "go back".
// Kept as an interface so the two halves stay apart: update-transaction.ts implements it.
import type { UpdateOutcome } from '../../../shared/model';

export interface UpdateStanding {
  /** The version "go back" returns to, while the device keeps its image; null otherwise. */
  previousVersion: string | null;
  /** An update or "go back" of this app running now. */
  runningTaskId: string | null;
  lastOutcome: UpdateOutcome | null;
}

export interface UpdateRunner {
  /**
   * Starts the transaction that moves the app to `version` of its catalog app (the build that
   * suits its device is chosen as an install chooses it). Returns at once with the task's id;
   * refused with a HearthError when the app is busy (a backup, another update).
   */
  start(deviceId: string, appId: string, version: string): Promise<{ taskId: string }>;
  /** Back to the previous version, the data as it is now or as it was before the update. */
  goBack(deviceId: string, appId: string, data: 'now' | 'before'): Promise<{ taskId: string }>;
  standing(deviceId: string, appId: string): UpdateStanding;
  /** Called whenever a standing changes (a task started or ended, an outcome). */
  onChange(listener: () => void): () => void;
}
