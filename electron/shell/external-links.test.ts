import { expect, it } from 'vitest';
import { isSafeExternalUrl } from './external-links';

it('lets only plain https links leave the app', () => {
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
