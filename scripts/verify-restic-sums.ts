// Checks the restic sums pinned in fetch-restic.ts against restic's own word for them: the
// release's SHA256SUMS, with its signature SHA256SUMS.asc by restic's release key.
//   npx tsx scripts/verify-restic-sums.ts
// The release pipeline runs it before any installer is built: a signature that is not good,
// or not made by exactly that key, or a pinned sum that differs from the signed list, fails
// the release. The key travels with the repo (restic-release-key.asc, as Debian's restic
// source package carries it in debian/upstream/signing-key.asc), so no keyserver is asked;
// it is believed only because its fingerprint is the one restic's installation docs publish
// ("Official Binaries": key 0x91A6868BD3F7A907), pinned below.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ResticAsset } from './fetch-restic';
import { download, RESTIC_VERSION, resticAssets, resticReleaseUrl } from './fetch-restic';

const run = promisify(execFile);

export const RESTIC_RELEASE_KEY = {
  fingerprint: 'CF8F18F2844575973F79D4E191A6868BD3F7A907',
  keyFile: join(import.meta.dirname, 'restic-release-key.asc'),
};

export interface SignedFile {
  /** The signed file (SHA256SUMS) and its detached signature (SHA256SUMS.asc). */
  data: string;
  signature: string;
  /** The only key the signature may be by, and its primary key's full fingerprint. */
  keyFile: string;
  fingerprint: string;
}

/** gpg in a keyring of its own, so nothing the machine's keyring trusts counts. */
async function gpg(home: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run('gpg', ['--homedir', home, '--batch', '--no-tty', ...args]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('gpg is not installed, so no signature can be checked.', { cause: error });
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Throws unless `signature` is a good signature of `data` by exactly the pinned key. */
export async function verifySignature(signed: SignedFile): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'hearth-gpg-'));
  try {
    await gpg(home, ['--import', signed.keyFile]);
    const listed = await gpg(home, ['--with-colons', '--list-keys']);
    // A primary key's fingerprint is the fpr line right after its pub line.
    const lines = listed.stdout.split('\n');
    const primaries = lines
      .map((line, i) => (line.startsWith('pub:') ? lines[i + 1]?.split(':')[9] : undefined))
      .filter((f): f is string => Boolean(f));
    const wanted = signed.fingerprint.toUpperCase();
    if (primaries.length !== 1 || primaries[0] !== wanted)
      throw new Error(
        `${signed.keyFile} holds ${primaries.join(', ') || 'no key'}, not only the key ${wanted}.`,
      );
    const verify = await gpg(home, ['--status-fd', '1', '--verify', signed.signature, signed.data]);
    const status = verify.stdout.split('\n');
    // VALIDSIG's last field is the signing key's primary fingerprint (a subkey may sign).
    const good = status.some(
      (line) => line.startsWith('[GNUPG:] VALIDSIG ') && line.trim().split(' ').at(-1) === wanted,
    );
    const bad = status.some((line) =>
      /^\[GNUPG:\] (BADSIG|ERRSIG|EXPKEYSIG|REVKEYSIG) /.test(line),
    );
    if (!good || bad)
      throw new Error(
        `${signed.signature} is not a good signature of ${signed.data} by the key ${wanted}.`,
      );
  } finally {
    // Key generation or a signature may have started an agent for this keyring.
    await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}

/** sha256sum's lines ("<sum>  <file>", "*" before binary-mode names) as file → sum. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(m[2]!, m[1]!.toLowerCase());
  }
  return sums;
}

/** Throws, naming every file, unless each pinned sum is the one the signed list gives. */
export function checkPinnedSums(
  signed: Map<string, string>,
  assets: Record<string, ResticAsset> = resticAssets,
): void {
  const wrong = Object.values(assets).flatMap(({ file, sha256 }) => {
    const listed = signed.get(file);
    if (listed === sha256) return [];
    return [listed ? `${file} (signed ${listed}, pinned ${sha256})` : `${file} (not listed)`];
  });
  if (wrong.length > 0)
    throw new Error(
      `The restic sums pinned in scripts/fetch-restic.ts are not restic ${RESTIC_VERSION}'s signed ones: ${wrong.join('; ')}.`,
    );
}

async function verifyPinnedSums(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-restic-sums-'));
  try {
    const data = join(dir, 'SHA256SUMS');
    const signature = join(dir, 'SHA256SUMS.asc');
    await writeFile(data, await download(resticReleaseUrl('SHA256SUMS')));
    await writeFile(signature, await download(resticReleaseUrl('SHA256SUMS.asc')));
    await verifySignature({ data, signature, ...RESTIC_RELEASE_KEY });
    checkPinnedSums(parseSha256Sums(await readFile(data, 'utf8')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  verifyPinnedSums().then(
    () =>
      process.stdout.write(
        `restic ${RESTIC_VERSION}: SHA256SUMS is signed by ${RESTIC_RELEASE_KEY.fingerprint} and lists every pinned sum.\n`,
      ),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
