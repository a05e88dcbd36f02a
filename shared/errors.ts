// Stable error codes and the sentence an owner reads for each. Codes never change once
// shipped (tests and the UI key on them); messages may be improved.

export const errorMessages = {
  INVALID_INPUT: 'Hearth received a request it could not understand. Please try again.',
  FORBIDDEN_SENDER: 'This request came from somewhere Hearth does not trust, so it was ignored.',
  UNKNOWN_CHANNEL: 'Hearth does not know how to do that yet.',
  NOT_FOUND: 'Hearth could not find what you asked for. It may already be gone.',
  CANCELLED: 'Cancelled.',
  DISK_FULL:
    "Your computer's disk is full, so Hearth could not save. Free some space and try again.",
  STORAGE_FAILED:
    'Hearth could not save its settings on this computer. Check that your disk is working and try again.',
  DISCONNECTED:
    'Hearth lost its connection to its background service. Reload the window to reconnect.',
  INTERNAL:
    'Something went wrong inside Hearth. Please try again; if it keeps happening, restart Hearth.',
} as const;

export type ErrorCode = keyof typeof errorMessages;

export interface SerializedError {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorMessages, value);
}

/** An error an owner can act on: a stable code plus a plain sentence. */
export class HearthError extends Error {
  readonly code: ErrorCode;

  constructor(
    code: ErrorCode,
    message: string = errorMessages[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HearthError';
    this.code = code;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message };
  }
}

/** Anything thrown becomes a SerializedError; internals (stacks, paths) never cross the wire. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof HearthError) return error.toJSON();
  return { code: 'INTERNAL', message: errorMessages.INTERNAL };
}

export function deserializeError(value: unknown): HearthError {
  if (typeof value === 'object' && value !== null) {
    const { code, message } = value as Record<string, unknown>;
    if (isErrorCode(code)) {
      return new HearthError(
        code,
        typeof message === 'string' && message ? message : errorMessages[code],
      );
    }
  }
  return new HearthError('INTERNAL');
}
