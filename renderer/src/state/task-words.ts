// How tasks and steps are put into words and numbers for the owner. Kept apart from
// the components so the words are the same everywhere (and in announcements).
import type { StepState, TaskSnapshot, TaskState } from '../../../shared/model';

export const taskStateWords: Record<TaskState, string> = {
  running: 'Running',
  succeeded: 'Finished',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export const stepStateWords: Record<StepState, string> = {
  pending: 'Waiting',
  running: 'In progress',
  done: 'Done',
  'already-done': 'Already done',
  warning: 'Warning',
  failed: 'Failed',
  skipped: 'Skipped',
};

export function isFinished(task: TaskSnapshot): boolean {
  return task.state !== 'running';
}

/**
 * Whole percent done, or null when a running task cannot say (the bar then shows
 * activity without a number). A finished task is always complete, even if it failed:
 * the bar shows that work stopped, the words show how it ended.
 */
export function percentOf(task: TaskSnapshot): number | null {
  if (isFinished(task)) return task.state === 'succeeded' ? 100 : percentFromProgress(task);
  return percentFromProgress(task);
}

function percentFromProgress(task: TaskSnapshot): number | null {
  const progress = task.progress;
  if (!progress || !(progress.total > 0)) return null;
  const ratio = Math.min(Math.max(progress.done / progress.total, 0), 1);
  return Math.round(ratio * 100);
}

/** The one sentence said aloud (aria-live) when a task ends. */
export function announcementFor(task: TaskSnapshot): string {
  switch (task.state) {
    case 'succeeded':
      return `${task.title} finished.${task.summary ? ` ${task.summary}` : ''}`;
    case 'failed':
      return `${task.title} failed.${task.error ? ` ${task.error.message}` : ''}`;
    case 'cancelled':
      return `${task.title} was cancelled.`;
    default:
      return '';
  }
}
