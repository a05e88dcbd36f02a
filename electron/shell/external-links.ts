// The only ways out of the app to the web, both in the owner's browser: any plain https
// link, and an http link that main has confirmed is the "Open" link of an app on one of
// the owner's devices (apps on a home device serve plain http, e.g.
// http://raspberrypi.local:8080/). Everything else stays shut.
import type { Shell } from 'electron';

/**
 * Answers whether `url` is one of the links the owner's apps publish right now, on their
 * device's own address or .local name. Main wires it from the apps and devices it knows;
 * the shell only asks.
 */
export type DeviceLinkCheck = (url: string) => Promise<boolean>;

/** Parsed, or null unless it is a web URL without credentials and with a host. */
function webUrl(raw: string): URL | null {
  try {
    const url = new URL(raw);
    const web = url.protocol === 'https:' || url.protocol === 'http:';
    return web && url.username === '' && url.password === '' && url.hostname !== '' ? url : null;
  } catch {
    return null;
  }
}

export function isSafeExternalUrl(raw: string): boolean {
  return webUrl(raw)?.protocol === 'https:';
}

export async function openExternalSafely(
  shell: Pick<Shell, 'openExternal'>,
  raw: string,
  isDeviceLink: DeviceLinkCheck = () => Promise.resolve(false),
): Promise<boolean> {
  const url = webUrl(raw);
  if (!url) return false;
  // What is checked is what is opened: the parsed URL, not the raw text (the parser drops
  // tabs and newlines, so the two can differ).
  if (url.protocol !== 'https:' && !(await isDeviceLink(url.href))) return false;
  await shell.openExternal(url.href, { activate: true });
  return true;
}
