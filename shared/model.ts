// Types that cross the contract. Plain data only: everything here must survive
// structured clone (Electron IPC) and JSON (browser mode).
import type { SerializedError } from './errors';

export type TaskState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** How far a task is; `done` may be fractional while a step is part-way. */
export interface TaskProgress {
  done: number;
  total: number;
  unit: 'steps' | 'bytes';
}

export type StepState =
  'pending' | 'running' | 'done' | 'already-done' | 'warning' | 'failed' | 'skipped';

export interface TaskStep {
  label: string;
  state: StepState;
  /** A sentence for the owner: what happened, or what to do. */
  note?: string;
}

export interface TaskSnapshot {
  id: string;
  kind: string;
  title: string;
  state: TaskState;
  progress: TaskProgress | null;
  /** What the task is doing right now, in plain words. */
  detail: string | null;
  steps: TaskStep[];
  cancellable: boolean;
  startedAt: number;
  endedAt: number | null;
  /** A one-line outcome once finished. */
  summary: string | null;
  error: SerializedError | null;
}

export type ThemePreference = 'system' | 'light' | 'dark';

export interface Settings {
  theme: ThemePreference;
  /** The owner has seen the first-run welcome. */
  welcomeDone: boolean;
}

export interface AppInfo {
  name: string;
  version: string;
  /** Whether the UI runs inside the desktop app or in a browser (development and tests). */
  shell: 'electron' | 'browser';
  platform: string;
}
