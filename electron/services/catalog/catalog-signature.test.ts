import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import {
  catalogKeyId,
  loadTrustedKeys,
  MAX_CATALOG_BYTES,
  signCatalog,
  verifyCatalogFile,
} from './catalog-signature';
import { makeTestKey, sampleIndex, signedText } from './test-catalog';

const NOT_TRUSTED =
  'This app catalog is not signed by anyone Hearth trusts, so Hearth will not use it.';

function refusal(run: () => unknown): HearthError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return error as HearthError;
  }
  throw new Error('expected a refusal');
}

describe('catalog signatures', () => {
  const key = makeTestKey();
  const trusted = loadTrustedKeys([key.trusted]);

  it('accepts a file signed by a trusted key and returns exactly the signed index', () => {
    const index = sampleIndex();
    expect(verifyCatalogFile(signedText(index, key), trusted)).toEqual(index);
    expect(verifyCatalogFile(Buffer.from(signedText(index, key)), trusted)).toEqual(index);
  });

  it('refuses a file whose index was changed after signing', () => {
    const file = signCatalog(sampleIndex(), key.privateKey);
    const tampered = sampleIndex();
    tampered.apps[0]!.versions[0]!.artifacts['qemu-x86_64']!.sha256 = 'b'.repeat(64);
    const forged = { ...file, index: Buffer.from(JSON.stringify(tampered)).toString('base64') };
    const error = refusal(() => verifyCatalogFile(JSON.stringify(forged), trusted));
    expect(error.message).toBe(NOT_TRUSTED);
  });

  it('refuses a signature made by a key Hearth does not pin, even with a pinned key id', () => {
    const stranger = makeTestKey();
    const signed = signCatalog(sampleIndex(), stranger.privateKey);
    expect(refusal(() => verifyCatalogFile(JSON.stringify(signed), trusted)).message).toBe(
      NOT_TRUSTED,
    );
    const impostor = { ...signed, keyId: key.trusted.keyId };
    expect(refusal(() => verifyCatalogFile(JSON.stringify(impostor), trusted)).message).toBe(
      NOT_TRUSTED,
    );
  });

  it('refuses unsigned catalogs: a bare index, or a signed file with its signature removed', () => {
    expect(refusal(() => verifyCatalogFile(JSON.stringify(sampleIndex()), trusted)).message).toBe(
      NOT_TRUSTED,
    );
    const { signature: _dropped, ...stripped } = signCatalog(sampleIndex(), key.privateKey);
    expect(refusal(() => verifyCatalogFile(JSON.stringify(stripped), trusted)).message).toBe(
      NOT_TRUSTED,
    );
  });

  it('refuses malformed files with a "damaged" sentence', () => {
    const good = signCatalog(sampleIndex(), key.privateKey);
    const cases: string[] = [
      '',
      'not json',
      '[]',
      'null',
      '"hearth"',
      JSON.stringify({ ...good, index: '***' }),
      JSON.stringify({ ...good, signature: 'AAAA' }),
      JSON.stringify({ ...good, keyId: '../../etc' }),
      JSON.stringify({ ...good, extra: true }),
      JSON.stringify({ ...good, format: 'hearth-catalog-signed/9' }),
    ];
    for (const text of cases) {
      const error = refusal(() => verifyCatalogFile(text, trusted));
      expect(error.message, text).toMatch(/damaged or is not a Hearth app catalog/);
    }
  });

  it('refuses a signed index that is not UTF-8 JSON', () => {
    for (const bytes of [Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('{"format":')]) {
      const file = signCatalog(new Uint8Array(bytes), key.privateKey);
      expect(refusal(() => verifyCatalogFile(JSON.stringify(file), trusted)).message).toMatch(
        /damaged/,
      );
    }
  });

  it('refuses a huge file before parsing it', () => {
    const huge = ' '.repeat(MAX_CATALOG_BYTES + 1);
    expect(refusal(() => verifyCatalogFile(huge, trusted)).message).toMatch(/larger than Hearth/);
    const small = signedText(sampleIndex(), key);
    expect(() => verifyCatalogFile(small, trusted, { maxBytes: 100 })).toThrow(/larger/);
  });

  it('pins keys given as raw base64 or SPKI PEM, and checks each key id', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const set = loadTrustedKeys([{ keyId: catalogKeyId(publicKey), publicKey: pem }, key.trusted]);
    expect([...set.keys()]).toEqual([catalogKeyId(publicKey), key.trusted.keyId]);
    expect(() => loadTrustedKeys([{ ...key.trusted, keyId: '0000000000000000' }])).toThrow(
      /has the key id/,
    );
    expect(() => loadTrustedKeys([{ keyId: 'x', publicKey: 'AAAA' }])).toThrow(/not a usable/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() =>
      loadTrustedKeys([
        { keyId: 'x', publicKey: rsa.export({ type: 'spki', format: 'pem' }).toString() },
      ]),
    ).toThrow(/not a usable/);
  });

  it('signs with a PEM private key too, and refuses to sign with a public key', () => {
    const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const file = signCatalog(sampleIndex(), pem);
    expect(file.keyId).toBe(key.trusted.keyId);
    expect(verifyCatalogFile(JSON.stringify(file), trusted)).toEqual(sampleIndex());
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => signCatalog(sampleIndex(), publicKey)).toThrow(/private key/);
  });
});
