// Where Hearth keeps its secrets (the install's private key, backup passwords). The port
// that services see; the Electron shell provides one over the OS keyring (safeStorage),
// tests and browser mode a private file vault.

export interface KeyVault {
  /** 'os': encrypted by the OS keyring; 'file': only the file permissions protect it. */
  readonly protection: 'os' | 'file';
  /** The secret stored under `name`, or null if none was stored. */
  read(name: string): Promise<Buffer | null>;
  /** Replaces the secret under `name` atomically: a crash leaves the old or the new one. */
  write(name: string, secret: Buffer): Promise<void>;
}

/** Secret names: short, lowercase, safe as file names on every OS. */
export const KEY_NAME = /^[a-z][a-z0-9-]{0,63}$/;
