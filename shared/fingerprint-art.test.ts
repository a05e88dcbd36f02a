import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fingerprintArt } from './fingerprint-art';

it('draws the same picture as ssh-keygen for the same key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-art-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const out = execFileSync('ssh-keygen', ['-lv', '-E', 'sha256', '-f', join(dir, 'k.pub')])
      .toString()
      .trim()
      .split('\n');
    const fingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(out[0]!)![0];
    expect(fingerprintArt(fingerprint, 'ED25519 256')).toEqual(out.slice(1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses what is not a fingerprint', () => {
  expect(() => fingerprintArt('SHA256:not base64!')).toThrow();
});

it('draws the end over the start where the walk comes back to it, as ssh-keygen does', () => {
  // A fingerprint whose walk ends where it began (found by trying random ones); CI once drew
  // such a key with ssh-keygen, which shows E there.
  const art = fingerprintArt('SHA256:mlAiDIsXLtg9+VqwmQ21iEkPDFLz3b8BjXMu3WyI+ZA', 'ED25519 256');
  expect(art[5]).toBe('|    = + E * +    |');
  expect(art.slice(1, -1).join('')).not.toContain('S');
});
