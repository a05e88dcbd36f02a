import { expect, it } from 'vitest';
import { isSafeExternalUrl, openExternalSafely } from './external-links';
import { fakeShell } from './fake-electron';

it('lets plain https links leave the app', () => {
  expect(isSafeExternalUrl('https://hearth.example/help')).toBe(true);
  for (const url of [
    'http://x.example',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'https://u:p@x.example',
    'smb://nas',
    'nonsense',
    'https:',
  ]) {
    expect(isSafeExternalUrl(url)).toBe(false);
  }
});

it('opens an http link only when the device-link check says it is an app’s', async () => {
  const shell = fakeShell();
  const published = 'http://raspberrypi.local:8080/';
  const check = (url: string) => Promise.resolve(url === published);
  expect(await openExternalSafely(shell, published, check)).toBe(true);
  expect(await openExternalSafely(shell, 'http://evil.example:8080/', check)).toBe(false);
  // Without a check (the default), no http link leaves.
  expect(await openExternalSafely(shell, published)).toBe(false);
  // Only web links are ever put to the check.
  const never = () => Promise.reject(new Error('asked about a non-web link'));
  for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://nas/share'])
    expect(await openExternalSafely(shell, url, never)).toBe(false);
  expect(shell.opened).toEqual([published]);
});

it('opens the very URL it checked, not the raw text (the URL parser drops tabs and newlines)', async () => {
  const shell = fakeShell();
  const checked: string[] = [];
  const check = (url: string) => (checked.push(url), Promise.resolve(true));
  expect(await openExternalSafely(shell, 'http://raspberrypi.local:8080/\t\nx', check)).toBe(true);
  expect(checked).toEqual(['http://raspberrypi.local:8080/x']);
  expect(shell.opened).toEqual(['http://raspberrypi.local:8080/x']);
});
