// Fetches the restic that an installer carries, for one platform and architecture, from
// restic's GitHub releases, and refuses any archive whose sha256 is not the one pinned here:
//   npx tsx scripts/fetch-restic.ts --platform linux --arch x64
// It lands in out/tools/restic/<platform>-<arch>/, which electron-builder.yml's extraResources
// copy to the app's resources/bin (electron/services/tools/bundled-tool.ts finds it there).
//
// Updating restic: change RESTIC_VERSION and every sum below to the lines of that release's
// SHA256SUMS; scripts/verify-restic-sums.ts (run by the release pipeline before any installer
// is built) checks them against that list and its signature by restic's release key.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const RESTIC_VERSION = '0.18.1';

/** One release asset: its file name on the release page and its line in SHA256SUMS. */
export interface ResticAsset {
  file: string;
  sha256: string;
  /** The program inside the archive (a .bz2 holds one file; the Windows .zip names it). */
  entry: string;
}

/** Keyed by Node's (and electron-builder's) names: `${process.platform}-${arch}`. */
export const resticAssets: Record<string, ResticAsset> = {
  'linux-x64': {
    file: `restic_${RESTIC_VERSION}_linux_amd64.bz2`,
    sha256: '680838f19d67151adba227e1570cdd8af12c19cf1735783ed1ba928bc41f363d',
    entry: `restic_${RESTIC_VERSION}_linux_amd64`,
  },
  'linux-arm64': {
    file: `restic_${RESTIC_VERSION}_linux_arm64.bz2`,
    sha256: '87f53fddde38764095e9c058a3b31834052c37e5826d2acf34e18923c006bd45',
    entry: `restic_${RESTIC_VERSION}_linux_arm64`,
  },
  'darwin-x64': {
    file: `restic_${RESTIC_VERSION}_darwin_amd64.bz2`,
    sha256: 'eb8543ed92ff1ddb67762daebf09f7bea4b0c37d21edb6a910bee3d4f514015f',
    entry: `restic_${RESTIC_VERSION}_darwin_amd64`,
  },
  'darwin-arm64': {
    file: `restic_${RESTIC_VERSION}_darwin_arm64.bz2`,
    sha256: '193fccc8bb4567b498923bc70261e104ff22be88016f0f108b035dad372ab711',
    entry: `restic_${RESTIC_VERSION}_darwin_arm64`,
  },
  'win32-x64': {
    file: `restic_${RESTIC_VERSION}_windows_amd64.zip`,
    sha256: '0c1a713440578cb400d2e76208feb24f1b339426b075a21f73b6b2132692515d',
    entry: `restic_${RESTIC_VERSION}_windows_amd64.exe`,
  },
};

export function resticAsset(platform: string, arch: string): ResticAsset {
  const asset = resticAssets[`${platform}-${arch}`];
  if (!asset) throw new Error(`No restic is pinned for ${platform}-${arch}.`);
  return asset;
}

/** A file of the pinned restic release: an asset, or its SHA256SUMS and signature. */
export function resticReleaseUrl(file: string): string {
  return `https://github.com/restic/restic/releases/download/v${RESTIC_VERSION}/${file}`;
}

export function resticUrl(asset: ResticAsset): string {
  return resticReleaseUrl(asset.file);
}

/** The bytes at a release URL, or a sentence naming what answered instead. */
export async function download(url: string): Promise<Uint8Array> {
  const response = await fetch(url).catch((error: unknown) => {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`${url} could not be downloaded${cause ? ` (${cause})` : ''}.`, {
      cause: error,
    });
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Throws unless the bytes are exactly the pinned archive. */
export function checkSha256(bytes: Uint8Array, asset: ResticAsset): void {
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== asset.sha256)
    throw new Error(`${asset.file} has sha256 ${actual}, not the pinned ${asset.sha256}.`);
}

/** Where the installer build picks it up. */
export function resticOutDir(root: string, platform: string, arch: string): string {
  return join(root, 'out', 'tools', 'restic', `${platform}-${arch}`);
}

async function fetchRestic(platform: string, arch: string, root: string): Promise<string> {
  const asset = resticAsset(platform, arch);
  const bytes = await download(resticUrl(asset));
  checkSha256(bytes, asset);
  const work = mkdtempSync(join(tmpdir(), 'hearth-restic-'));
  try {
    const archive = join(work, asset.file);
    writeFileSync(archive, bytes);
    // bunzip2 is on the Linux and macOS runners; Windows 10+ ships bsdtar, which reads zip.
    if (asset.file.endsWith('.bz2')) execFileSync('bunzip2', [archive]);
    else execFileSync('tar', ['-xf', archive, '-C', work, asset.entry]);
    const outDir = resticOutDir(root, platform, arch);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const binary = join(outDir, platform === 'win32' ? 'restic.exe' : 'restic');
    renameSync(join(work, asset.entry), binary);
    chmodSync(binary, 0o755);
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({
    options: {
      platform: { type: 'string', default: process.platform },
      arch: { type: 'string', default: process.arch },
    },
  });
  const root = resolve(import.meta.dirname, '..');
  fetchRestic(values.platform, values.arch, root).then(
    (binary) => process.stdout.write(`restic ${RESTIC_VERSION} checked and placed at ${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
