import type { EventChannel, EventMap } from '../../shared/ipc';

/** Sends an event to every window (Electron) or every connected page (browser mode). */
export type Emit = <E extends EventChannel>(channel: E, payload: EventMap[E]) => void;
