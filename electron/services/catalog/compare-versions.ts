// Ordering catalog versions (x.y.z or x.y.z-pre) so "the newest" means what people expect:
// 1.10.0 after 1.9.0, and a release after its own pre-releases.
import type { AppVersion } from './catalog-schema';

function parts(version: string): { nums: number[]; pre: string | null } {
  const [core = '', ...rest] = version.split('-');
  return { nums: core.split('.').map(Number), pre: rest.length ? rest.join('-') : null };
}

function comparePre(a: string, b: string): number {
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Negative if a is older than b, positive if newer, 0 if equal (semver precedence). */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (pa.nums[i] ?? 0) - (pb.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa.pre === null || pb.pre === null) return pa.pre === pb.pre ? 0 : pa.pre === null ? 1 : -1;
  return comparePre(pa.pre, pb.pre);
}

/** Newest first; releases before pre-releases, so an unpinned install never picks a beta. */
export function newestFirst(versions: readonly AppVersion[]): AppVersion[] {
  const isPre = (v: AppVersion) => v.version.includes('-');
  return [...versions].sort(
    (a, b) => Number(isPre(a)) - Number(isPre(b)) || compareVersions(b.version, a.version),
  );
}
