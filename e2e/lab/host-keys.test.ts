import { describe, expect, it } from 'vitest';
import { fingerprintOfBlob, fingerprintOfPublicKeyLine } from './host-keys';

describe('host key fingerprints', () => {
  it('matches what ssh-keygen -l prints', () => {
    // ssh-keygen -lf printed: 256 SHA256:KQkQr29yf+xnv1lT8/TOximkItCaoGILQNbVlaZsU2A test (ED25519)
    const line =
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzdQ/05mQWaUXsJQW5aWL7/WCHY7g3I7YS5k5rAAPuR test';
    expect(fingerprintOfPublicKeyLine(line)).toBe(
      'SHA256:KQkQr29yf+xnv1lT8/TOximkItCaoGILQNbVlaZsU2A',
    );
  });

  it('has no base64 padding', () => {
    expect(fingerprintOfBlob(Buffer.from('x'))).not.toMatch(/=/);
  });

  it('refuses what is not a public key line', () => {
    expect(() => fingerprintOfPublicKeyLine('ssh-ed25519')).toThrow();
    expect(() => fingerprintOfPublicKeyLine('ssh-ed25519 not*base64')).toThrow();
  });
});
