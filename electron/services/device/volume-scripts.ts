// The device-side scripts behind backups and restores (DeviceClient's snapshotVolumes,
// receiveVolume, swapInVolume, ...). Every value in them was validated by the caller and is
// single-quoted again here; none of them ever writes through or reads through a symlink.
import { appPauseFunctions } from './app-pause';
import { liveCopyFunctions } from './live-copy';
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
 * Arguments: data dir, spec.json, qmp helper, unit, app id, tag, watchdog seconds, volumes.
 * The laptop's snapshots (snapshotScript) and the device's own backups (peer-backups.ts) both
 * run it, so both pause an app the same way (app-pause.ts) with the same guarantees.
 *
 * The order is what keeps the app safe: the free-space check happens before the pause; the
 * pause is followed at once by a watchdog that resumes the VM (and ends this worker) after
 * the given seconds even if cp hangs; the EXIT trap resumes on every way out, cancels QEMU's
 * copy jobs, removes the partial copies (and, on failure, the finished ones), and writes the
 * verdict last. A running QEMU app is resumed as soon as its copy jobs have started
 * (live-copy.ts); every other app stays paused until cp is done.
 */
export const snapshotWorker = `# hearth:snapshot-worker
trap '' HUP PIPE
d=$1; spec=$2; qmp=$3; unit=$4; app=$5; tag=$6; wd=$7; shift 7
vols="$*"
res="$d/.hearth-snapshot-$tag"
paused=no; was=no; verdict="fail copy"; jobs=no; n=$#
${appPauseFunctions}app_how
${liveCopyFunctions}live_how
on_exit() {
  [ "$paused" = yes ] && app_resume
  [ "$jobs" = no ] || live_qmp clean "$n" >/dev/null 2>&1
  : > "$res.done"
  # Its once-a-second look could miss the marker (removed below): a watchdog left behind would
  # resume the app minutes later, in the middle of another run's pause.
  [ -z "$watchdog" ] || kill -KILL "$watchdog" 2>/dev/null
  if [ "$verdict" != ok ]; then
    for v in $vols; do rm -f -- "$d/$v.img.$tag.partial" "$d/$v.img.$tag"; done
    rm -f -- "$res.body"
  fi
  # For whoever looks later (the laptop may be gone); the exit status is the real answer.
  echo "$verdict" > "$res" 2>/dev/null
  rm -f -- "$res.done"
}
watchdog=
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
need=1024; whole=1024
for v in $vols; do
  k=$(du -k -- "$d/$v.img" | cut -f1); need=$((need + k))
  # QEMU's job writes the holes out as zeros: it needs the whole size, or cp does the copy.
  k=$(( ($(stat -c %s -- "$d/$v.img") + 1023) / 1024 )); whole=$((whole + k))
done
avail=$(df -Pk -- "$d" | awk 'NR == 2 { print $4 }')
if [ "$need" -gt "$avail" ]; then verdict="fail disk-full"; exit ${DISK_FULL_STATUS}; fi
for v in $vols; do rm -f -- "$d/$v.img.$tag.partial" "$d/$v.img.$tag"; done
ids=
# The report (volumes' sizes, their identities, the pause), of the copies named "$d/<v>.img.$tag$1".
report() {
  for v in $vols; do echo "copy $v $(stat -c %s -- "$d/$v.img.$tag$1")"; done
  echo "$ids"
  if [ "$was" = yes ]; then echo "paused-ms $(( (t1 - t0) / 1000000 ))"; else echo "paused-ms 0"; fi
  echo "was-running $was"
}
identities() {
  ids=
  for v in $vols; do
    # The volume's identity (size, mtime and ctime to the nanosecond, inode): the next run
    # hashes its copy only if this is still the same (the hash decides).
    ids="$ids
identity $v $(stat -c '%s %.9Y %.9Z %i' -- "$d/$v.img" 2>/dev/null)"
  done
}
# A running QEMU app: everything that can be done before the pause is, so that one QMP
# connection stops the VM, starts QEMU's copy jobs (the volumes as they are at that instant)
# and lets it run on (live-copy.ts). Its identities are taken just before: a write after them
# changes them, so they can only make the next run hash for nothing, never skip a change.
copied=no
if [ "$live" = yes ] && [ "$whole" -le "$avail" ]; then
  set --
  for v in $vols; do
    truncate -s "$(stat -c %s -- "$d/$v.img")" -- "$d/$v.img.$tag.partial" || break
    set -- "$@" "$d/$v.img" "$d/$v.img.$tag.partial"
  done
  if [ $# -eq $((n * 2)) ]; then
    # What a worker that was killed (its EXIT trap never ran) left in QEMU would refuse the jobs.
    live_qmp clean "$n" >/dev/null 2>&1
    identities
    # Marked before asking, as app_pause does: a stop that took effect is always resumed.
    jobs=yes; paused=yes; was=yes
    t0=$(date +%s%N)
    said=$(live_qmp copy "$@" 2>&1) && st=0 || st=$?
    case $st in
      0) paused=no; copied=live ;;
      3) copied=live ;; # the jobs run, cont went unanswered: app_resume below tries again
      2) # QEMU refused the jobs (an older QEMU, say) and the VM is stopped: cp while paused.
        echo "hearth: copied while paused, as QEMU could not copy: $said" >&2
        live_qmp clean "$n" >/dev/null 2>&1; jobs=no; copied=paused ;;
      10) jobs=no; paused=no; was=no ;; # not running: copied as any app is, below
      1) echo "$said" >&2; verdict="fail pause"; exit 3 ;;
      *) # Nothing was stopped (no drive of that file, QEMU gone): the usual way, below.
        [ -z "$said" ] || echo "hearth: copied with cp, as QEMU could not copy: $said" >&2
        jobs=no; paused=no; was=no ;;
    esac
  fi
  [ "$copied" != no ] || for v in $vols; do rm -f -- "$d/$v.img.$tag.partial"; done
fi
if [ "$copied" = no ]; then
  app_pause
  case $? in
    0) ;;
    2) verdict="fail cannot-pause"; echo "hearth: the app runs and cannot be paused" >&2; exit 3 ;;
    *) verdict="fail pause"; exit 3 ;;
  esac
  identities
fi
if [ "$was" = yes ]; then
  # Resumes the app and ends this worker after the given seconds, whatever hangs (cp, or
  # QEMU's jobs: the EXIT trap cancels them). It does not hold the copy lock (fd 9): the lock
  # ends with this worker.
  (
    trap '' TERM
    i=0
    while [ $i -lt "$wd" ]; do
      [ -e "$res.done" ] && exit 0
      sleep 1; i=$((i + 1))
    done
    [ -e "$res.done" ] && exit 0
    app_resume >/dev/null 2>&1
    kill -s TERM -- -$$ 2>/dev/null || kill -s TERM $$
  ) </dev/null >/dev/null 2>&1 9>&- &
  watchdog=$!
fi
if [ "$copied" != live ]; then
  for v in $vols; do
    # Its message is kept in memory: on a full disk no log file could be written.
    if ! err=$(cp --reflink=auto --sparse=always -- "$d/$v.img" "$d/$v.img.$tag.partial" 2>&1); then
      echo "$err" >&2
      case "$err" in *[Nn]o\\ space*) verdict="fail disk-full"; exit ${DISK_FULL_STATUS} ;; esac
      exit 1
    fi
  done
fi
if [ "$paused" = yes ] && ! app_resume; then
  verdict="fail resume"; echo "hearth: the app could not be resumed" >&2; exit 3
fi
t1=$(date +%s%N)
# The app runs again: the same report, early, while QEMU's jobs may still be copying (the laptop
# opens its repository meanwhile). Only a hint: the exit status and the body are the answer.
report .partial > "$res.early.partial" 2>/dev/null && mv -f -- "$res.early.partial" "$res.early" 2>/dev/null
if [ "$copied" = live ]; then
  if ! err=$(live_qmp wait "$n" 2>&1); then
    echo "$err" >&2
    case "$err" in *[Nn]o\\ space*) verdict="fail disk-full"; exit ${DISK_FULL_STATUS} ;; esac
    exit 1
  fi
  live_qmp clean "$n" >/dev/null 2>&1; jobs=no
fi
if [ "$was" = no ]; then
  # Not paused, as it was not running: a visit may have woken it (an app that sleeps when idle)
  # or the owner started it meanwhile. A copy its writes went into is no backup: refused whole.
  for v in $vols; do
    case "$ids" in
      *"identity $v $(stat -c '%s %.9Y %.9Z %i' -- "$d/$v.img" 2>/dev/null)"*) ;;
      *) verdict="fail changed"; echo "hearth: the app started and wrote $v while it was copied" >&2; exit 1 ;;
    esac
  done
fi
: > "$res.done"
for v in $vols; do mv -f -- "$d/$v.img.$tag.partial" "$d/$v.img.$tag" || exit 1; done
report "" > "$res.body" || exit 1
verdict=ok
exit 0
`;

/** Every file the worker may leave beside the copies (`$res` is its verdict), in shell words. */
export const WORKER_FILES =
  '"$res" "$res.body" "$res.done" "$res.log" "$res.early" "$res.early.partial"';

/** The line that ends snapshotScript's early report (what follows it is the final one). */
export const RESUMED_LINE = 'resumed';

export interface SnapshotScriptInput {
  dataDir: string;
  lockPath: string;
  spec: string;
  qmp: string;
  appId: string;
  unit: string;
  tag: string;
  watchdogSeconds: number;
  volumes: readonly string[];
}

/**
 * Starts the detached worker and waits for it; prints its report (`copy <vol> <size>`,
 * `identity <vol> <size> <mtime> <ctime> <inode>`, `paused-ms`, `was-running`) when it
 * succeeded. The same report comes early, followed by RESUMED_LINE, as soon as the app runs
 * again (QEMU's jobs may still be copying): the laptop starts its side then. If this
 * foreground part dies with the SSH connection, the worker still resumes the app, finishes or
 * removes its copies, and leaves its verdict in `.hearth-snapshot-<tag>` (removed by
 * removeStaleCopies).
 */
export function snapshotScript(input: SnapshotScriptInput): string {
  const res = shellQuote(`${input.dataDir}/.hearth-snapshot-${input.tag}`);
  const args = [
    input.dataDir,
    input.spec,
    input.qmp,
    input.unit,
    input.appId,
    input.tag,
    String(input.watchdogSeconds),
  ]
    .concat(input.volumes)
    .map(shellQuote)
    .join(' ');
  return `${dataDirCheck(input.dataDir)}
${copyLock(input.lockPath)}
res=${res}
rm -f -- ${WORKER_FILES}
# setsid -w: the worker gets a session of its own (a dead SSH session's signals do not reach
# it) and this part still gets its exit status while it is alive to wait.
setsid -w sh -c ${shellQuote(snapshotWorker)} hearth-snapshot ${args} </dev/null >/dev/null 2>"$res.log" &
worker=$!
# The early report as soon as the worker has resumed the app, then ${RESUMED_LINE}; a worker that
# ends before (its verdict written) or dies (killed, so no verdict) has none.
while [ ! -e "$res.early" ] && [ ! -e "$res" ] && kill -0 "$worker" 2>/dev/null; do sleep 0.05; done
[ -e "$res.early" ] && cat -- "$res.early" && echo ${RESUMED_LINE}
wait "$worker"
status=$?
cat -- "$res.log" >&2 2>/dev/null
[ $status -eq 0 ] && cat -- "$res.body"
rm -f -- ${WORKER_FILES}
case $status in
  0) exit 0 ;;
  ${DISK_FULL_STATUS}) echo "hearth: disk-full" >&2; exit ${DISK_FULL_STATUS} ;;
  124) echo "hearth: the copy took too long; the app was resumed" >&2; exit 1 ;;
  *) exit 1 ;;
esac`;
}
