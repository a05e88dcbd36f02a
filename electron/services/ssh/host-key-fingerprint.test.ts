import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, keyAlgorithmOf } from './host-key-fingerprint';

let dir: string;
let made = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-fp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Generates a key with OpenSSH and returns its blob and the fingerprint OpenSSH prints. */
async function opensshKey(type: string): Promise<{ blob: Buffer; fingerprint: string }> {
  const path = join(dir, `key-${type}-${++made}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'test', '-f', path]);
  const line = (await readFile(`${path}.pub`, 'utf8')).trim();
  const blob = Buffer.from(line.split(' ')[1]!, 'base64');
  // `ssh-keygen -lf` prints "<bits> SHA256:<hash> <comment> (<TYPE>)".
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`])
    .toString()
    .split(' ')[1]!;
  return { blob, fingerprint: printed };
}

describe('fingerprintOf', () => {
  it.each(['ed25519', 'rsa', 'ecdsa'])('matches ssh-keygen -lf for an %s key', async (type) => {
    const { blob, fingerprint } = await opensshKey(type);
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprintOf(blob)).toBe(fingerprint);
  });

  it('never carries base64 padding', () => {
    expect(fingerprintOf(Buffer.from('x'))).not.toContain('=');
  });
});

describe('keyAlgorithmOf', () => {
  it('reads the key type from the blob', async () => {
    expect(keyAlgorithmOf((await opensshKey('ed25519')).blob)).toBe('ssh-ed25519');
  });

  it('says unknown for malformed blobs', () => {
    expect(keyAlgorithmOf(Buffer.alloc(0))).toBe('unknown');
    expect(keyAlgorithmOf(Buffer.from([0, 0, 0, 200, 1]))).toBe('unknown');
    expect(keyAlgorithmOf(Buffer.from([0, 0, 0, 2, 0, 1]))).toBe('unknown');
  });
});
