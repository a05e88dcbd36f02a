// The device-side scripts behind backups and restores (DeviceClient's snapshotVolumes,
// receiveVolume, swapInVolume, ...). Every value in them was validated by the caller and is
// single-quoted again here; none of them ever writes through or reads through a symlink.
import { shellQuote } from './shell-quote';

/** The exit status a script uses for "the device's disk cannot hold this". */
export const DISK_FULL_STATUS = 28;
/** The exit status for "a snapshot of this app is still running" (BSD's EX_TEMPFAIL). */
export const BUSY_STATUS = 75;

/**
 * Takes the app's copy lock on fd 9, or exits BUSY_STATUS. A snapshot's worker inherits the
 * fd, so the lock is held until the worker ends, also after the laptop that started it went
 * away: a clean-up or a new snapshot cannot remove or overwrite copies being made.
 */
export function copyLock(lockPath: string): string {
  const lock = shellQuote(lockPath);
  return `if [ -L ${lock} ]; then echo "hearth: the lock is a link" >&2; exit 3; fi
exec 9>> ${lock} || exit 1
flock -n 9 || { echo "hearth: a copy of this app is being made" >&2; exit ${BUSY_STATUS}; }`;
}

/** Refuses a data folder that is missing or is a link (everything below would follow it). */
export function dataDirCheck(dataDir: string): string {
  const d = shellQuote(dataDir);
  return `if [ -L ${d} ] || [ ! -d ${d} ]; then echo "hearth: the data folder is missing or is a link" >&2; exit 3; fi`;
}

/**
 * The part of a snapshot that must finish even if the laptop goes away: it runs detached
 * (its own session under setsid, HUP and PIPE ignored, stdio off the SSH channel) and gives
 * its verdict as its exit status (and in a file, for when nobody waits any more).
 * Arguments: data dir, qmp helper, unit, tag, watchdog seconds, volumes.
 *
 * The order is what keeps the app safe: the free-space check happens before the pause; the
 * pause is followed at once by a watchdog that resumes the VM (and ends this worker) after
 * the given seconds even if cp hangs; the EXIT trap resumes on every way out, removes the
 * partial copies (and, on failure, the finished ones), and writes the verdict last.
 */
const snapshotWorker = `# hearth:snapshot-worker
trap '' HUP PIPE
d=$1; qmp=$2; unit=$3; tag=$4; wd=$5; shift 5
vols="$*"
res="$d/.hearth-snapshot-$tag"
paused=no; was=no; verdict="fail copy"
resume() {
  # Retried: a QMP socket that is busy for a moment must not leave the app paused.
  i=0
  while [ $i -lt 5 ]; do
    "$qmp" cont >/dev/null && break
    i=$((i + 1)); sleep 1
  done
  paused=no
}
on_exit() {
  [ "$paused" = yes ] && resume
  : > "$res.done"
  if [ "$verdict" != ok ]; then
    for v in $vols; do rm -f -- "$d/$v.img.$tag.partial" "$d/$v.img.$tag"; done
    rm -f -- "$res.body"
  fi
  # For whoever looks later (the laptop may be gone); the exit status is the real answer.
  echo "$verdict" > "$res" 2>/dev/null
  rm -f -- "$res.done"
}
trap on_exit EXIT
trap 'verdict="fail watchdog"; exit 124' TERM
trap 'exit 130' INT
for v in $vols; do
  f="$d/$v.img"
  if [ -L "$f" ] || [ ! -f "$f" ]; then verdict="fail missing $v"; echo "hearth: no volume $v" >&2; exit 3; fi
done
# Room for full copies (allocated blocks, so sparse volumes count as what they hold), plus
# 1 MiB so that the copies never leave the apps with no space at all. Reflinks may need
# none, but that cannot be known before.
need=1024
for v in $vols; do k=$(du -k -- "$d/$v.img" | cut -f1); need=$((need + k)); done
avail=$(df -Pk -- "$d" | awk 'NR == 2 { print $4 }')
if [ "$need" -gt "$avail" ]; then verdict="fail disk-full"; exit ${DISK_FULL_STATUS}; fi
for v in $vols; do rm -f -- "$d/$v.img.$tag.partial" "$d/$v.img.$tag"; done
if [ -x "$qmp" ]; then
  if "$qmp" query-status 2>/dev/null | grep -q '"running": *true'; then was=yes; fi
elif systemctl is-active --quiet "$unit" 2>/dev/null; then
  # Running but no way to pause it (not a QEMU app): a copy of a live volume is not a backup.
  verdict="fail cannot-pause"; echo "hearth: the app runs and cannot be paused" >&2; exit 3
fi
t0=$(date +%s%N)
if [ "$was" = yes ]; then
  # Marked before asking: a stop that paused but failed to answer must be resumed too.
  paused=yes
  "$qmp" stop >/dev/null || { verdict="fail pause"; exit 3; }
  # The watchdog does not hold the copy lock (fd 9): the lock ends with this worker.
  (
    trap '' TERM
    i=0
    while [ $i -lt "$wd" ]; do
      [ -e "$res.done" ] && exit 0
      sleep 1; i=$((i + 1))
    done
    [ -e "$res.done" ] && exit 0
    "$qmp" cont >/dev/null 2>&1
    kill -s TERM -- -$$ 2>/dev/null || kill -s TERM $$
  ) </dev/null >/dev/null 2>&1 9>&- &
fi
for v in $vols; do
  # Its message is kept in memory: on a full disk no log file could be written.
  if ! err=$(cp --reflink=auto --sparse=always -- "$d/$v.img" "$d/$v.img.$tag.partial" 2>&1); then
    echo "$err" >&2
    case "$err" in *[Nn]o\\ space*) verdict="fail disk-full"; exit ${DISK_FULL_STATUS} ;; esac
    exit 1
  fi
done
[ "$paused" = yes ] && resume
t1=$(date +%s%N)
: > "$res.done"
{
  for v in $vols; do
    mv -f -- "$d/$v.img.$tag.partial" "$d/$v.img.$tag" || exit 1
    echo "copy $v $(stat -c %s -- "$d/$v.img.$tag")"
  done
  if [ "$was" = yes ]; then echo "paused-ms $(( (t1 - t0) / 1000000 ))"; else echo "paused-ms 0"; fi
  echo "was-running $was"
} > "$res.body" || exit 1
verdict=ok
exit 0
`;

export interface SnapshotScriptInput {
  dataDir: string;
  lockPath: string;
  qmp: string;
  unit: string;
  tag: string;
  watchdogSeconds: number;
  volumes: readonly string[];
}

/**
 * Starts the detached worker and waits for it; prints its report (`copy <vol> <size>`,
 * `paused-ms`, `was-running`) when it succeeded. If this foreground part dies with the SSH
 * connection, the worker still resumes the app, finishes or removes its copies, and leaves
 * its verdict in `.hearth-snapshot-<tag>` (removed by removeStaleCopies).
 */
export function snapshotScript(input: SnapshotScriptInput): string {
  const res = shellQuote(`${input.dataDir}/.hearth-snapshot-${input.tag}`);
  const args = [input.dataDir, input.qmp, input.unit, input.tag, String(input.watchdogSeconds)]
    .concat(input.volumes)
    .map(shellQuote)
    .join(' ');
  return `${dataDirCheck(input.dataDir)}
${copyLock(input.lockPath)}
res=${res}
rm -f -- "$res" "$res.body" "$res.done" "$res.log"
# setsid -w: the worker gets a session of its own (a dead SSH session's signals do not reach
# it) and this part still gets its exit status while it is alive to wait.
setsid -w sh -c ${shellQuote(snapshotWorker)} hearth-snapshot ${args} </dev/null >/dev/null 2>"$res.log" &
wait $!
status=$?
cat -- "$res.log" >&2 2>/dev/null
[ $status -eq 0 ] && cat -- "$res.body"
rm -f -- "$res" "$res.body" "$res.log"
case $status in
  0) exit 0 ;;
  ${DISK_FULL_STATUS}) echo "hearth: disk-full" >&2; exit ${DISK_FULL_STATUS} ;;
  124) echo "hearth: the copy took too long; the app was resumed" >&2; exit 1 ;;
  *) exit 1 ;;
esac`;
}
