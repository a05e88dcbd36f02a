// The QMP (QEMU Machine Protocol) lines Hearth sends to a running app's qmp.sock. QMP starts in
// capabilities-negotiation mode: every command except qmp_capabilities is refused until that
// has been sent, so each exchange starts with it.

export const qmpCommands = ['system_powerdown', 'stop', 'cont', 'quit', 'query-status'] as const;
export type QmpCommand = (typeof qmpCommands)[number];

export function isQmpCommand(value: string): value is QmpCommand {
  return (qmpCommands as readonly string[]).includes(value);
}

/** The JSON line for one command, newline-terminated. */
export function qmpLine(command: QmpCommand | 'qmp_capabilities'): string {
  return `${JSON.stringify({ execute: command })}\n`;
}

/** What to write after QEMU's greeting: capabilities negotiation, then the command. */
export function qmpCommand(command: QmpCommand): string {
  if (!isQmpCommand(command)) throw new Error(`not a QMP command Hearth sends: ${String(command)}`);
  return qmpLine('qmp_capabilities') + qmpLine(command);
}
