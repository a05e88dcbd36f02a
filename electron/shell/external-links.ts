// The only way out of the app to the web: https links, opened in the owner's browser.
import type { Shell } from 'electron';

export function isSafeExternalUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (
      url.protocol === 'https:' && url.username === '' && url.password === '' && url.hostname !== ''
    );
  } catch {
    return false;
  }
}

export async function openExternalSafely(
  shell: Pick<Shell, 'openExternal'>,
  raw: string,
): Promise<boolean> {
  if (!isSafeExternalUrl(raw)) return false;
  await shell.openExternal(raw, { activate: true });
  return true;
}
