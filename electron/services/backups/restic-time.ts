// The --time value for a snapshot taken at a given moment. restic's --time is local time with
// no zone, so off Windows the child is given TZ=UTC and the time in UTC: no DST hour is then
// ambiguous, and the snapshot records exactly the moment asked for.

/** `value` for --time, and what to add to restic's environment for it to mean that moment. */
export function resticTime(
  time: Date,
  platform: NodeJS.Platform = process.platform,
): { value: string; env: Record<string, string> } {
  // Go ignores TZ on Windows; there restic's local time is the machine's, as is Node's.
  const utc = platform !== 'win32';
  const pad = (n: number) => String(n).padStart(2, '0');
  const [y, mo, d, h, mi, s] = utc
    ? [
        time.getUTCFullYear(),
        time.getUTCMonth() + 1,
        time.getUTCDate(),
        time.getUTCHours(),
        time.getUTCMinutes(),
        time.getUTCSeconds(),
      ]
    : [
        time.getFullYear(),
        time.getMonth() + 1,
        time.getDate(),
        time.getHours(),
        time.getMinutes(),
        time.getSeconds(),
      ];
  return {
    value: `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}`,
    env: utc ? { TZ: 'UTC' } : {},
  };
}
