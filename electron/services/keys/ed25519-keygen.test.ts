import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEd25519 } from './ed25519-keygen';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-keygen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateEd25519', () => {
  it('makes keys that ssh2 parses every time (ssh2 1.17’s own generator does not)', () => {
    for (let i = 0; i < 300; i++) {
      const pair = generateEd25519(`hearth@test-${i}`);
      const parsed = utils.parseKey(pair.privateKey);
      if (parsed instanceof Error) throw parsed;
      expect(parsed.type).toBe('ssh-ed25519');
      expect(parsed.comment).toBe(`hearth@test-${i}`);
      expect(parsed.getPublicSSH().equals(pair.publicBlob)).toBe(true);
      expect(utils.parseKey(pair.publicKey)).not.toBeInstanceOf(Error);
      // And the pair really is a pair: what the private key signs, the public key verifies.
      const data = Buffer.from(`check ${i}`);
      const publicOnly = utils.parseKey(pair.publicKey);
      if (publicOnly instanceof Error) throw publicOnly;
      expect(publicOnly.verify(data, parsed.sign(data))).toBe(true);
    }
  });

  it('makes keys that OpenSSH reads, deriving the same public key', async () => {
    const pair = generateEd25519('hearth@laptop');
    const path = join(dir, 'id_ed25519');
    await writeFile(path, pair.privateKey, { mode: 0o600 });
    expect(execFileSync('ssh-keygen', ['-y', '-f', path]).toString().trim()).toBe(pair.publicKey);
  });
});
