// How installed apps are put into words for the owner: the state badge, uptime, memory
// and the sentences read aloud when an app changes. Kept apart from the components so
// the words are the same on the card and in announcements.
import { buildFor } from '../../../shared/runtimes';
import type { AppState, CatalogApp, DeviceRecord, InstalledApp } from '../../../shared/model';

/** The badge on an app's card. */
export function appStateWords(app: Pick<InstalledApp, 'state' | 'restarts'>): string {
  switch (app.state) {
    case 'installing':
      return 'Installing…';
    case 'starting':
      return 'Starting…';
    case 'running':
      return 'Running';
    case 'stopping':
      return 'Stopping…';
    case 'stopped':
      return 'Stopped';
    case 'sleeping':
      return 'Sleeping · wakes on the first visit';
    case 'crashed':
      return 'Crashed';
    case 'restarting':
      return app.restarts > 0
        ? `Restarting (${app.restarts} ${app.restarts === 1 ? 'restart' : 'restarts'})`
        : 'Restarting';
    case 'gave-up':
      return 'Gave up';
    case 'offline':
      return 'Device offline';
  }
}

/** The sentence read aloud when an app reaches this state; null for passing states. */
export function appStateSentence(app: Pick<InstalledApp, 'name' | 'state'>): string | null {
  const sentences: Partial<Record<AppState, string>> = {
    running: `${app.name} is running.`,
    stopped: `${app.name} stopped.`,
    crashed: `${app.name} crashed.`,
    restarting: `${app.name} is restarting.`,
    'gave-up': `${app.name} gave up.`,
    offline: `${app.name}'s device is offline.`,
  };
  return sentences[app.state] ?? null;
}

// The tray's menu follows the same rule, so it lives in the contract.
export { canRestart, canStart, canStop } from '../../../shared/app-controls';

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "running for 5 minutes", from when the current run started. */
export function uptimeWords(since: number, now: number): string {
  const minutes = Math.floor(Math.max(0, now - since) / 60_000);
  if (minutes < 1) return 'running for less than a minute';
  if (minutes < 60) return `running for ${plural(minutes, 'minute')}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `running for ${plural(hours, 'hour')}`;
  return `running for ${plural(Math.floor(hours / 24), 'day')}`;
}

/** Whole megabytes (MiB, as owners read "MB"). */
export function megabytes(bytes: number): number {
  return Math.max(0, Math.round(bytes / 1024 ** 2));
}

/** "uses 12 MB of 32 MB", or just the allowance when the device cannot say. */
export function memoryWords(app: Pick<InstalledApp, 'memoryBytes' | 'memoryMiB'>): string {
  return app.memoryBytes === null
    ? `may use up to ${app.memoryMiB} MB`
    : `uses ${megabytes(app.memoryBytes)} MB of ${app.memoryMiB} MB`;
}

/** Only web addresses become links: a device's report must never smuggle in a script URL. */
export function isWebLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Whether the catalog has a build this device can start (the installer's own rule). */
export function canRunOn(app: CatalogApp, device: DeviceRecord): boolean {
  return buildFor(app.targets, device) !== null;
}

/** The icon's SVG as a data URL, for an <img>: an image cannot run scripts. */
export function svgDataUrl(svg: string): string {
  const bytes = new TextEncoder().encode(svg);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

/** "Living-room Pi", "Living-room Pi and Study PC", "A, B and C". */
export function listWords(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
