// Signs a catalog index for publishing:
//   npx tsx electron/services/catalog/sign-catalog-cli.ts --key KEY.pem --in index.json --out catalog.json
// (with --trusted resources/catalog/trusted-keys.json, refusing a key Hearth does not pin),
// and makes a new publisher key (printing the entry for resources/catalog/trusted-keys.json):
//   npx tsx electron/services/catalog/sign-catalog-cli.ts --generate-key KEY.pem
// The index is checked against Hearth's rules first, and the exact bytes of the file are
// signed, so the published index reads as its author formatted it.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  catalogKeyId,
  loadTrustedKeys,
  publicKeyBase64,
  signCatalog,
  trustedKeysFileSchema,
} from './catalog-signature';
import { parseCatalogIndex, readCatalog } from './read-catalog';

async function generate(path: string): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // 'wx': never overwrite a key that may already sign published catalogs.
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  });
  const entry = { keyId: catalogKeyId(publicKey), publicKey: publicKeyBase64(publicKey) };
  process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
}

async function signFile(
  keyPath: string,
  inPath: string,
  outPath: string,
  trustedPath: string | undefined,
): Promise<void> {
  const privateKey = createPrivateKey(await readFile(keyPath, 'utf8'));
  const bytes = await readFile(inPath);
  const index = parseCatalogIndex(JSON.parse(bytes.toString('utf8')) as unknown);
  const signed = signCatalog(new Uint8Array(bytes), privateKey);
  const text = `${JSON.stringify(signed, null, 2)}\n`;
  // Read it back exactly as Hearth will: with only this key trusted, or (for a catalog that
  // ships, --trusted) with the keys the installers pin, so a release signed with a key they
  // do not know fails here instead of in every owner's Hearth.
  const publicKey = createPublicKey(privateKey);
  const own = { keyId: catalogKeyId(publicKey), publicKey: publicKeyBase64(publicKey) };
  if (trustedPath !== undefined) {
    const pinned = trustedKeysFileSchema.parse(JSON.parse(await readFile(trustedPath, 'utf8')));
    if (!pinned.keys.some((k) => k.keyId === own.keyId && k.publicKey === own.publicKey))
      throw new Error(
        `The key ${own.keyId} is not in ${trustedPath}, so Hearth would refuse the catalog it signs.`,
      );
    readCatalog(text, loadTrustedKeys(pinned.keys));
  } else readCatalog(text, loadTrustedKeys([own]));
  await writeFile(outPath, text);
  process.stdout.write(
    `Signed ${index.apps.length} app(s) and ${index.jobs?.length ?? 0} build job(s) with key ${signed.keyId} into ${outPath}\n`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      key: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      trusted: { type: 'string' },
      'generate-key': { type: 'string' },
    },
  });
  if (values['generate-key']) return generate(values['generate-key']);
  if (!values.key || !values.in || !values.out) {
    process.stderr.write(
      'usage: sign-catalog-cli --key KEY.pem --in index.json --out catalog.json [--trusted trusted-keys.json]\n' +
        '       sign-catalog-cli --generate-key KEY.pem\n',
    );
    process.exitCode = 2;
    return;
  }
  return signFile(values.key, values.in, values.out, values.trusted);
}

main().catch((error: unknown) => {
  const cause =
    error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}${cause}\n`);
  process.exitCode = 1;
});
