// Signing and verifying catalog files. The signature covers the exact bytes of the
// index (carried base64-encoded), so nobody has to agree on a canonical JSON form, and
// what is parsed is byte for byte what was signed. Hearth trusts only the ed25519
// public keys it pins; the key id in a file only says which pinned key to try.
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { catalogDamaged, catalogNotTrusted, catalogTooLarge } from './catalog-errors';
import { INDEX_FORMAT, SIGNED_FORMAT, signedCatalogSchema } from './catalog-schema';
import type { SignedCatalogFile } from './catalog-schema';

export const MAX_CATALOG_BYTES = 2 * 1024 * 1024;

export interface TrustedKey {
  /** 16 hex digits: the start of sha256 over the raw 32-byte public key (see catalogKeyId). */
  keyId: string;
  /** The raw 32-byte public key in base64, or an SPKI PEM. */
  publicKey: string;
}

/** Pinned keys, checked and ready to verify with. */
export type TrustedKeySet = ReadonlyMap<string, KeyObject>;

export const trustedKeysFileSchema = z.strictObject({
  format: z.literal('hearth-trusted-keys/1'),
  keys: z
    .array(
      z.strictObject({
        keyId: z.string(),
        publicKey: z.string().max(1024),
        /** Who holds the private half and what it signs; for people, not for Hearth. */
        note: z.string().max(200).optional(),
      }),
    )
    .max(16),
});

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** The raw 32-byte public key, base64: the form trusted-keys.json keeps. */
export function publicKeyBase64(key: KeyObject): string {
  return rawPublicKey(key).toString('base64');
}

/** A key's id: derived from the key itself, so a pinned entry cannot name the wrong key. */
export function catalogKeyId(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);
}

function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
  const raw = Buffer.from(trimmed, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== trimmed)
    throw new Error('a raw ed25519 public key is 32 bytes of base64');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

/**
 * Checks and loads pinned keys. A malformed entry is a packaging mistake, not something
 * an owner can fix, so it throws a plain Error naming the entry.
 */
export function loadTrustedKeys(keys: readonly TrustedKey[]): TrustedKeySet {
  const set = new Map<string, KeyObject>();
  for (const entry of keys) {
    let key: KeyObject;
    try {
      key = parsePublicKey(entry.publicKey);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an ed25519 key');
    } catch (error) {
      throw new Error(`trusted catalog key ${entry.keyId} is not a usable ed25519 public key`, {
        cause: error,
      });
    }
    const derived = catalogKeyId(key);
    if (derived !== entry.keyId)
      throw new Error(`trusted catalog key ${entry.keyId} has the key id ${derived}`);
    set.set(derived, key);
  }
  return set;
}

function toPrivateKey(privateKey: KeyObject | string): KeyObject {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519')
    throw new Error('catalogs are signed with an ed25519 private key');
  return key;
}

/**
 * Signs an index (an object, serialised here, or the exact bytes to sign) for tools and
 * tests. Does not validate the index: sign-catalog-cli does, before calling this.
 */
export function signCatalog(index: unknown, privateKey: KeyObject | string): SignedCatalogFile {
  const key = toPrivateKey(privateKey);
  const bytes =
    index instanceof Uint8Array ? Buffer.from(index) : Buffer.from(JSON.stringify(index), 'utf8');
  return {
    format: SIGNED_FORMAT,
    keyId: catalogKeyId(createPublicKey(key)),
    index: bytes.toString('base64'),
    signature: sign(null, bytes, key).toString('base64'),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw catalogDamaged('not JSON');
  }
}

/**
 * Verifies a signed catalog file and returns the index it carries, parsed from exactly
 * the signed bytes but not yet checked against the schema (see parseCatalogIndex).
 * Refuses with an owner-readable HearthError otherwise.
 */
export function verifyCatalogFile(
  file: Uint8Array | string,
  trusted: TrustedKeySet,
  options: { maxBytes?: number } = {},
): unknown {
  const maxBytes = options.maxBytes ?? MAX_CATALOG_BYTES;
  const size = typeof file === 'string' ? Buffer.byteLength(file, 'utf8') : file.byteLength;
  if (size > maxBytes) throw catalogTooLarge(maxBytes);
  const text = typeof file === 'string' ? file : Buffer.from(file).toString('utf8');
  const json = parseJson(text);

  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw catalogDamaged('not a JSON object');
  const shape = json as Record<string, unknown>;
  // A bare index, or a signed file with its signature stripped, is simply unsigned.
  if (shape.format === INDEX_FORMAT || (shape.format === SIGNED_FORMAT && !shape.signature))
    throw catalogNotTrusted('unsigned');
  const parsed = signedCatalogSchema.safeParse(json);
  if (!parsed.success) throw catalogDamaged(`not a signed catalog: ${parsed.error.message}`);

  const key = trusted.get(parsed.data.keyId);
  if (!key) throw catalogNotTrusted(`unknown key ${parsed.data.keyId}`);
  const bytes = Buffer.from(parsed.data.index, 'base64');
  const signature = Buffer.from(parsed.data.signature, 'base64');
  if (!verify(null, bytes, key, signature)) throw catalogNotTrusted('bad signature');

  // Only now, with the bytes known to come from a trusted publisher, is the index read.
  const indexText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let decoded: string;
  try {
    decoded = indexText.decode(bytes);
  } catch {
    throw catalogDamaged('index is not UTF-8');
  }
  return parseJson(decoded);
}
