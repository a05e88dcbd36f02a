// One place where failed calls to window.hearth end up, so every screen shows the same
// plain sentence instead of crashing or printing a stack trace.
import { deserializeError } from '../../../shared/errors';

/** The sentence an owner should read for anything thrown by window.hearth. */
export function messageOf(error: unknown): string {
  // window.hearth rejects with a HearthError (browser mode) or a plain { code, message }
  // (Electron's contextBridge keeps only an Error's message); both carry a known code and
  // a sentence written for owners. Anything else may be an internal detail (a TypeError,
  // a path), so deserializeError gives it the generic sentence.
  return deserializeError(error).message;
}

export class NoticesState {
  /** The latest problem, as a sentence; null when there is nothing to say. */
  error = $state<string | null>(null);

  report(error: unknown): void {
    this.error = messageOf(error);
  }

  dismiss(): void {
    this.error = null;
  }
}
