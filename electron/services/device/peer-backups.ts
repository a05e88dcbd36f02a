// Backups to another Hearth device in the house ("keep a copy on the Kitchen Pi"), the device
// contract's half: restic runs ON THE SOURCE DEVICE under a systemd timer, as the hearth account,
// and writes to an SFTP repository on the TARGET device, so backups happen while the laptop is
// closed. Everything either device is asked to do is built here:
//
// On the target, one account per source device (`hb-<first 12 hex of its id>`, layout.ts) that
// may do nothing but SFTP inside its own root-owned chroot (sshd Match rule, ForceCommand
// internal-sftp, key in a root-owned `restrict` file), made by the root agent's `peer-allow`.
//
// On the source, the hearth account's own ed25519 key, the target's host key (the one Hearth
// already trusts for it, under the alias `hearth-<target id>`, never its address), the
// repository password (the laptop's, so one recovery kit opens both), and per app a timer
// (`hearth-backup@<app>.timer`, the agent's `backup-on`) that runs the peer-backup script below.
// The script writes exactly the laptop's format (backup-format.ts) and a small JSON status file.
import { z } from 'zod';
import { HearthError, errorMessages } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import { SHORT_NAME_MAX, isAppId, isDeviceId } from '../../../shared/ids';
import type { BackupPoint } from '../../../shared/model';
import type { BackupManifest } from '../backups/backup-format';
import {
  BACKUP_FORMAT,
  MANIFEST_FILE,
  POINT_TAG,
  RETENTION,
  SPEC_FILE,
  TAG_HEARTH,
  VOLUMES_SEPARATOR,
  backupManifestSchema,
  imageMember,
  snapshotFile,
  snapshotPath,
  volumeMember,
} from '../backups/backup-format';
import { toPoint } from '../backups/backup-points';
import { fingerprintOf } from '../ssh/host-key-fingerprint';
import {
  ED25519_BLOB,
  SNAPSHOT_ID,
  agentBackupCommand,
  agentCommand,
  agentPeerCommand,
} from './agent-protocol';
import { BOOT_MARKER } from './app-status-report';
import {
  HEARTH_USER,
  appPathInShell,
  appPaths,
  appUnit,
  appUnitInShell,
  deviceLayout,
  peerAccount,
  peerAppTarget,
  peerTargetPaths,
} from './layout';
import type { ScriptOptions, ScriptSession } from './remote-script';
import { checkOperation, operationFailed, runOperation } from './remote-script';
import type { RemoteShell } from './root-shell';
import type { SshSession } from '../ssh/ssh-session';
import { sha256Function } from './sha256-script';
import { shellQuote } from './shell-quote';
import { unitSandbox } from './unit-sandbox';
import { DISK_FULL_STATUS, WORKER_FILES, snapshotWorker } from './volume-scripts';

/** What peer operations need of a session: scripts, and SFTP for files that must not ride on a command line. */
export type PeerSession = ScriptSession & Pick<SshSession, 'writeFile'>;

// --- Files provisioning puts on every device ------------------------------------------------

/**
 * The target's sshd rule. Match blocks end at the next Match or the end of the file they are in
 * (OpenSSH reads an Include'd file's Match as ending with that file), so the rest of the main
 * config is untouched. `%u` is the account's own name, so one rule serves every source device.
 */
export function peerSshdDropIn(): string {
  return `# Managed by Hearth: accounts of other Hearth devices may only use SFTP in their own backup folder.
Match Group ${deviceLayout.peerGroup}
	AuthorizedKeysFile ${deviceLayout.peerKeysDir}/%u
	AuthenticationMethods publickey
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	ChrootDirectory ${deviceLayout.peerChrootsDir}/%u
	ForceCommand internal-sftp -d /repo
	PermitTTY no
	PermitTunnel no
	PermitUserRC no
	AllowAgentForwarding no
	AllowTcpForwarding no
	AllowStreamLocalForwarding no
	GatewayPorts no
	X11Forwarding no
`;
}

/** One run of one app's backup, as the hearth account; the timer below starts it. */
export function backupServiceTemplate(): string {
  return `# Managed by Hearth.
[Unit]
Description=Hearth backup of app %i to another Hearth device
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
User=${HEARTH_USER}
ExecStart=${deviceLayout.peerBackupScript} run %i
# A backup yields to the apps: it runs when nothing else wants the CPU or the disk.
Nice=10
IOSchedulingClass=idle
TimeoutStartSec=6h
# It reads and writes Hearth's own folder and nothing else of the device; restic's cache and
# ssh's files live there too.
Environment=HOME=${deviceLayout.peerBackupDir}
${unitSandbox(`${deviceLayout.stateDir}`)}
`;
}

/**
 * When: the agent's `backup-on` adds the app's own OnCalendar in a drop-in. Persistent=true: a
 * run missed while the device was off runs right after the next boot.
 */
export function backupTimerTemplate(): string {
  return `# Managed by Hearth.
[Unit]
Description=Hearth backups of app %i to another Hearth device

[Timer]
OnCalendar=daily
Persistent=true
RandomizedDelaySec=20

[Install]
WantedBy=timers.target
`;
}

/** Where the peer-backup script looks (tests move it all into a scratch folder). */
export interface PeerScriptWhere {
  appsDir: string;
  backupDir: string;
  deviceJson: string;
  user: string;
  path: string;
}

const scriptDefaults: PeerScriptWhere = {
  appsDir: deviceLayout.appsDir,
  backupDir: deviceLayout.peerBackupDir,
  deviceJson: deviceLayout.deviceJson,
  user: HEARTH_USER,
  path: '/usr/sbin:/usr/bin:/sbin:/bin',
};

/** The sentences the device writes into its status file (plain text, no quotes or backslashes). */
export const peerSentences = {
  ok: 'Backed up.',
  okUntidy: 'Backed up. Removing old copies did not work this time; Hearth tries again next time.',
  notInstalled: 'The app is not fully installed yet, so there was nothing to back up.',
  unreachable:
    'The other device could not be reached, so no backup was taken. Check that it is switched on and connected.',
  wrongPassword: errorMessages.BACKUP_WRONG_PASSWORD,
  locked: errorMessages.BACKUP_LOCKED,
  pause: 'The app could not be paused for a consistent copy, so no backup was taken.',
  resume: 'The app could not be resumed after its copy was taken. Restart it from Hearth.',
  diskFull: errorMessages.BACKUP_DEVICE_DISK_FULL,
  targetFull: 'The other device is out of space, so no backup was taken. Free some space on it.',
  copy: 'The app data could not be copied, so no backup was taken.',
  woke: 'The app started while its data was being copied, so no backup was taken this time.',
  unchanged: 'Nothing changed since the last backup, so it still holds all of it.',
  failed: errorMessages.BACKUP_FAILED,
  damaged: errorMessages.BACKUP_DAMAGED,
} as const;

for (const sentence of Object.values(peerSentences))
  if (/["\\\n]/.test(sentence)) throw new Error(`not a plain sentence: ${sentence}`);

/** The copies' tag in the app's data folder (`<volume>.img.peer`); the copy lock keeps it one at a time. */
const COPY_TAG = 'peer';
/** The snapshot worker resumes the app after this long even if a copy hangs. */
const WATCHDOG_SECONDS = 1800;
/** An app's file for the script, below its folder `$appdir`. */
const rel = (pick: Parameters<typeof appPathInShell>[1]) => `"${appPathInShell('$appdir', pick)}"`;

/** The run's tags, as pointTags writes them (the script percent-encodes with uri_enc). */
const tagArgs = [
  TAG_HEARTH,
  `${POINT_TAG.app}=$app`,
  `${POINT_TAG.version}=$(uri_enc "$version")`,
  `${POINT_TAG.name}=$(uri_enc "$name")`,
  `${POINT_TAG.size}=$total`,
  `${POINT_TAG.volumes}=$vol_tag`,
  `${POINT_TAG.taken}=$taken`,
  `${POINT_TAG.paused}=$paused_ms`,
]
  .map((tag) => `--tag "${tag}"`)
  .join(' ');

/**
 * encodeURIComponent in sh, byte by byte: what stays as it is (A-Z a-z 0-9 - _ . ! ~ * ' ( ))
 * by its decimal code, anything else as %XX.
 */
const uriEncode = `uri_enc() {
  printf '%s' "$1" | od -An -v -tu1 | tr -s ' ' '\\n' | while read -r n; do
    case "$n" in
      '') ;;
      33|39|40|41|42|45|46|95|126|4[89]|5[0-7]|6[5-9]|[78][0-9]|90|9[7-9]|1[01][0-9]|12[0-2]) printf "\\\\$(printf %o "$n")" ;;
      *) printf '%%%02X' "$n" ;;
    esac
  done
}`;

/**
 * The script the backup unit runs (and the laptop, for a repository's first use, its snapshots
 * and a restore's download), as the hearth account:
 *   peer-backup run APP | init APP | snapshots APP | fetch APP SNAPSHOT
 * It trusts only what it checks: the app id, the target id and the target's settings (written
 * by the laptop through this file's functions, read back by pattern), the snapshot id.
 */
export function peerBackupScript(where: Partial<PeerScriptWhere> = {}): string {
  const w = { ...scriptDefaults, ...where };
  const s = Object.fromEntries(
    Object.entries(peerSentences).map(([k, v]) => [k, shellQuote(v)]),
  ) as Record<keyof typeof peerSentences, string>;
  return `#!/bin/sh
# Managed by Hearth: backs one app up to another Hearth device, as the ${w.user} account.
# usage: peer-backup run|init|snapshots APP | peer-backup fetch APP SNAPSHOT
set -u
PATH=${w.path}
LC_ALL=C
export PATH LC_ALL
umask 077
refuse() { echo "hearth peer-backup: $1" >&2; exit 2; }
${sha256Function}
[ "$(id -un)" = ${w.user} ] || refuse "runs as the ${w.user} account only"
[ $# -ge 2 ] || refuse "usage: peer-backup run|init|snapshots APP | fetch APP SNAPSHOT"
cmd=$1
app=$2
case "$cmd" in
  run|init|snapshots) [ $# -eq 2 ] || refuse "usage: peer-backup $cmd APP" ;;
  fetch)
    [ $# -eq 3 ] || refuse "usage: peer-backup fetch APP SNAPSHOT"
    snapshot=$3
    case "$snapshot" in ''|*[!0-9a-f]*) refuse "not a snapshot id" ;; esac
    [ \${#snapshot} -ge 8 ] && [ \${#snapshot} -le 64 ] || refuse "not a snapshot id"
    ;;
  *) refuse "not a command" ;;
esac
case "$app" in [a-z]*) ;; *) refuse "not an app id" ;; esac
case "$app" in *[!a-z0-9-]*) refuse "not an app id" ;; esac
[ \${#app} -le ${SHORT_NAME_MAX} ] || refuse "not an app id"

appdir=${w.appsDir}/$app
base=${w.backupDir}
status_file=$appdir/state/peer-backup.json
lock=$appdir/state/backup.lock
now_ms() { date +%s%3N; }
started=$(now_ms)

valid_id() {
  case "$1" in ????????-????-????-????-????????????) ;; *) return 1 ;; esac
  case "$1" in *[!0-9a-f-]*|*-*-*-*-*-*) return 1 ;; esac
}

# The status the laptop reads (peerStatusSchema); every value is a fixed sentence or checked.
write_status() {
  [ "$cmd" = run ] || return 0
  mkdir -p "$appdir/state" || return 0
  printf '{"format":1,"appId":"%s","targetId":"%s","startedAt":%s,"finishedAt":%s,"ok":%s,"sentence":"%s","snapshotId":%s,"bytes":%s}\\n' \\
    "$app" "\${target:-}" "$started" "$(now_ms)" "$1" "$2" "$3" "$4" > "$status_file.hearth-new" &&
    mv -f "$status_file.hearth-new" "$status_file"
}
fail() {
  write_status false "$1" null 0
  echo "hearth peer-backup: $1" >&2
  exit 1
}

[ -d "$appdir" ] || refuse "no app $app on this device"
target=$(head -c 64 "$base/apps/$app.target" 2>/dev/null | head -n 1)
valid_id "$target" || refuse "$app is not backed up to another device"
tdir=$base/targets/$target
host=
port=22
user=
while read -r key value rest; do
  case "$key" in
    host) host=$value ;;
    port) port=$value ;;
    user) user=$value ;;
  esac
done < "$tdir/target.conf" || refuse "the other device's settings are missing"
case "$host" in ''|-*|*[!A-Za-z0-9.:-]*) refuse "not a device address" ;; esac
case "$port" in ''|0*|*[!0-9]*) refuse "not a port" ;; esac
[ \${#port} -le 5 ] && [ "$port" -le 65535 ] || refuse "not a port"
case "$user" in hb-????????????) ;; *) refuse "not a backup account" ;; esac
case "$user" in hb-*[!0-9a-f]*) refuse "not a backup account" ;; esac
device=$(grep -o '"id": *"[0-9a-f-]*"' ${w.deviceJson} 2>/dev/null | head -n 1 | sed 's/.*"\\([0-9a-f-]*\\)"$/\\1/')
valid_id "$device" || refuse "this device has no Hearth id"

export RESTIC_REPOSITORY="sftp:$user@hearth-$target:/repo"
export RESTIC_PASSWORD_FILE="$tdir/password"
export RESTIC_CACHE_DIR="$base/cache"
export RESTIC_PROGRESS_FPS=0.016
export HOME="$base"
# Key, host key and account are Hearth's alone: no ssh config, agent or password is ever used.
sftp="ssh -F /dev/null -i $base/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$tdir/known_hosts -o HostKeyAlias=hearth-$target -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -p $port -l $user $host -s sftp"
r() { restic -o sftp.command="$sftp" "$@"; }

# Why restic failed, as the sentence the owner reads (its own words go to the journal).
said() {
  cat "$1" >&2
  if grep -qi 'wrong password' "$1"; then echo ${s.wrongPassword}
  elif grep -qi 'no space left' "$1"; then echo ${s.targetFull}
  elif grep -qi 'repository is already locked' "$1"; then echo ${s.locked}
  elif grep -qiE 'ssh|sftp|connection|host key|permission denied' "$1"; then echo ${s.unreachable}
  else echo ${s.failed}; fi
}

${uriEncode}

# The backup lock is fd 8: fd 9 is the copy lock the snapshot worker holds (volume-scripts.ts).
take_lock() {
  mkdir -p "$appdir/state" || exit 1
  exec 8>>"$lock"
  flock -w "$1" 8 || { echo "hearth peer-backup: a backup or restore of $app is running" >&2; exit 4; }
}

case "$cmd" in
  init)
    err=$(mktemp)
    if r cat config >/dev/null 2>"$err"; then rm -f "$err"; echo exists; exit 0; fi
    if ! grep -qiE 'does not exist|no such file|Is there a repository' "$err"; then said "$err" >&2; rm -f "$err"; exit 1; fi
    r init >/dev/null 2>"$err" || { said "$err" >&2; rm -f "$err"; exit 1; }
    rm -f "$err"
    echo created
    exit 0
    ;;
  snapshots)
    exec restic -o sftp.command="$sftp" snapshots --json --host "$device" --path /"$app".tar --tag ${TAG_HEARTH}
    ;;
  fetch)
    take_lock 60
    dir=$appdir/restore
    rm -rf "$dir" && mkdir -m 0700 "$dir" || exit 1
    err=$dir.err
    { r dump "$snapshot" /"$app".tar 2>"$err" || touch "$dir.dump-failed"; } |
      tar -x -f - -C "$dir" --no-same-owner --no-same-permissions --no-overwrite-dir 2>>"$err"
    tar_status=$?
    if [ -e "$dir.dump-failed" ] || [ "$tar_status" -ne 0 ]; then
      rm -rf "$dir" "$dir.dump-failed"; said "$err" >&2; rm -f "$err"; exit 1
    fi
    rm -f "$err"
    # Only the members of the format: no links, devices or anything else, nowhere else.
    if [ -n "$(find "$dir" ! -type f ! -type d | head -n 1)" ] || [ ! -f "$dir/${MANIFEST_FILE}" ]; then
      rm -rf "$dir"; refuse "that snapshot is not a Hearth backup"
    fi
    # Members are plain (not GNU-sparse) so any tar reader reads them: give the holes back.
    for f in "$dir"/volumes/*.img; do [ -f "$f" ] && { fallocate --dig-holes "$f" 2>/dev/null || true; }; done
    head -c 65536 "$dir/${MANIFEST_FILE}"
    exit 0
    ;;
esac

# --- run: one backup of the app ------------------------------------------------------------
take_lock 0
work=${rel((p) => p.backupWork)}
data=${rel((p) => p.data)}
tag=${COPY_TAG}
res=${rel((p) => p.snapshotResult(COPY_TAG))}
last=${rel((p) => p.peerLastPoint)}
volumes=
# Whatever happens, the copies go. The app itself is resumed by the snapshot worker on every
# way out of it, also when this script is killed while the worker copies.
cleanup() {
  rm -rf "$work"
  for v in $volumes; do rm -f -- "$data/$v.img.$tag"; done
  rm -f -- "$res" "$res.body" "$res.log"
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

spec=${rel((p) => p.spec)}
[ -f "$spec" ] || fail ${s.notInstalled}
name=$(sed -n 's/^{"appId":"[a-z0-9-]*","name":"\\([^"\\\\]*\\)".*/\\1/p' "$spec" | head -n 1 | tr -d '\\000-\\037' | cut -c1-64)
[ -n "$name" ] || name=$app
version=$(grep -o '"version":"[^"\\\\]*"' "$spec" | head -n 1 | cut -d'"' -f4 | tr -d '\\000-\\037' | cut -c1-32)
volumes=$(grep -o '"volumes":\\[[^]]*\\]' "$spec" | head -n 1 | grep -o '"name":"[a-z][a-z0-9-]*"' | cut -d'"' -f4)
image=$(readlink ${rel((p) => p.current)} 2>/dev/null)
image=\${image#images/}
case "$image" in *[!0-9a-f]*|'') fail ${s.notInstalled} ;; esac
[ \${#image} -eq 64 ] && [ -f "$appdir/images/$image" ] || fail ${s.notInstalled}
# An app that boots with an initrd keeps it beside the image; a new device needs both.
initrd=$(grep -o '"initrdSha256":"[0-9a-f]*"' "$spec" | head -n 1 | cut -d'"' -f4)
if [ -n "$initrd" ]; then
  [ \${#initrd} -eq 64 ] && [ -f "$appdir/images/$initrd" ] || fail ${s.notInstalled}
fi

# Reach the repository (and clear a lock a killed run left, stale ones only) before pausing.
err=$(mktemp)
r unlock >/dev/null 2>&1 || true
r cat config >/dev/null 2>"$err" || fail "$(said "$err")"

no_room() { grep -qi 'no space' "$err" && echo ${s.diskFull} || echo ${s.copy}; }
rm -rf "$work"
mkdir -p "$work/volumes" "$work/image" 2>"$err" || fail ${s.copy}
cp "$spec" "$work/${SPEC_FILE}" 2>"$err" || fail "$(no_room)"
for f in $image $initrd; do
  ln "$appdir/images/$f" "$work/image/$f" 2>/dev/null ||
    cp --reflink=auto "$appdir/images/$f" "$work/image/$f" 2>"$err" || fail "$(no_room)"
done

# The consistent moment: the snapshot worker the laptop's backups run (volume-scripts.ts) pauses
# the app the way its runtime pauses (app-pause.ts) only for the copies, in a session of its own,
# with its watchdog; its copies stay under the app's copy lock until they are moved here.
taken=$(now_ms)
report="paused-ms 0"
if [ -n "$volumes" ]; then
  exec 9>>${rel((p) => p.copyLock)} || fail ${s.copy}
  flock -w 600 9 || fail ${s.copy}
  rm -f -- ${WORKER_FILES}
  # 8>&-: the worker (and its watchdog) must not hold the backup lock after this run.
  setsid -w sh -c ${shellQuote(snapshotWorker)} hearth-snapshot "$data" "$spec" ${rel((p) => p.qmp)} "${appUnitInShell('$app')}" "$app" "$tag" ${WATCHDOG_SECONDS} $volumes </dev/null >/dev/null 2>"$res.log" 8>&- &
  wait $!
  copied=$?
  cat -- "$res.log" >&2 2>/dev/null
  case "$copied:$(cat -- "$res" 2>/dev/null)" in
    0:*) ;;
    ${DISK_FULL_STATUS}:*) fail ${s.diskFull} ;;
    *:"fail pause"|*:"fail cannot-pause") fail ${s.pause} ;;
    *:"fail resume") fail ${s.resume} ;;
    *:"fail changed") fail ${s.woke} ;;
    *) fail ${s.copy} ;;
  esac
  for v in $volumes; do mv -f -- "$data/$v.img.$tag" "$work/volumes/$v.img" 2>"$err" || fail ${s.copy}; done
  report=$(cat -- "$res.body")
  rm -f -- ${WORKER_FILES}
  exec 9>&-
fi
paused_ms=$(printf '%s\\n' "$report" | sed -n 's/^paused-ms \\([0-9]\\{1,12\\}\\)$/\\1/p')

# What this run's data is: the last point's record compares with it (the same lines, written
# below after a run that made its snapshot). Identities were taken while the app was paused.
entries=
members=
vol_tag=
total=0
skippable=yes
record="image $image
initrd \${initrd:--}
spec $(sha256_of "$work/${SPEC_FILE}" | cut -c1-64)"
for v in $volumes; do
  size=$(stat -c %s "$work/volumes/$v.img")
  sum=$(sha256_of "$work/volumes/$v.img" | cut -c1-64)
  identity=$(printf '%s\\n' "$report" | sed -n "s/^identity $v \\([0-9]\\{1,20\\} [0-9.]\\{11,\\} [0-9.]\\{11,\\} [0-9]\\{1,20\\}\\)$/\\1/p")
  [ -n "$identity" ] || skippable=no
  record="$record
volume $v $size $sum $identity"
  entries="$entries\${entries:+,}{\\"name\\":\\"$v\\",\\"sizeBytes\\":$size,\\"sha256\\":\\"$sum\\"}"
  members="$members ${volumeMember('$v')}"
  vol_tag="$vol_tag\${vol_tag:+${VOLUMES_SEPARATOR}}$v"
  total=$((total + size))
done
image_size=$(stat -c %s "$work/image/$image")
total=$((total + image_size))
initrd_json=
if [ -n "$initrd" ]; then
  initrd_size=$(stat -c %s "$work/image/$initrd")
  total=$((total + initrd_size))
  initrd_json=",\\"initrd\\":{\\"sha256\\":\\"$initrd\\",\\"sizeBytes\\":$initrd_size}"
  members="$members ${imageMember('$image')} ${imageMember('$initrd')}"
else
  members="$members ${imageMember('$image')}"
fi

# The month the whole repository was last read back; check_all SNAPSHOT BYTES reads it all, and
# reports damage against that point.
checked="$appdir/state/peer-backup-checked"
check_all() {
  r check --read-data >/dev/null 2>"$err" || { cat "$err" >&2; write_status false ${s.damaged} "\\"$1\\"" "$2"; exit 1; }
  date +%Y-%m > "$checked"
}

# Nothing changed since the last point, and it is still in the repository: no new snapshot.
if [ "$skippable" = yes ] && [ -f "$last" ]; then
  prev=$(sed -n 's/^snapshot \\([0-9a-f]\\{8,64\\}\\)$/\\1/p' "$last" | head -n 1)
  prev_bytes=$(sed -n 's/^bytes \\([0-9]\\{1,15\\}\\)$/\\1/p' "$last" | head -n 1)
  if [ -n "$prev" ] && [ "$(grep -Ev '^(snapshot|taken|bytes) ' "$last")" = "$record" ] &&
    r snapshots --json --host "$device" --path ${snapshotPath('"$app"')} 2>>"$err" | grep -q "\\"id\\":\\"$prev"; then
    # Unchanged runs still owe the month its full read of the repository.
    [ "$(cat "$checked" 2>/dev/null)" = "$(date +%Y-%m)" ] || check_all "$prev" "\${prev_bytes:-0}"
    rm -f "$err"
    write_status true ${s.unchanged} "\\"$prev\\"" "\${prev_bytes:-0}"
    echo "$prev"
    exit 0
  fi
fi

# The manifest (backup-format.ts), always the last member.
printf '{"format":${BACKUP_FORMAT},"deviceId":"%s","appId":"%s","appName":"%s","appVersion":"%s","volumes":[%s],"image":{"sha256":"%s","sizeBytes":%s}%s}\\n' \\
  "$device" "$app" "$name" "$version" "$entries" "$image" "$image_size" "$initrd_json" > "$work/${MANIFEST_FILE}" || fail ${s.diskFull}

# One tar per run into restic, its headers the same from run to run (as the laptop's: the same
# data gives the same bytes). Without pipefail, a tar that fails leaves a marker, and the
# snapshot of its truncated stream is forgotten at once.
{ (cd "$work" && tar -c --no-recursion --format=gnu --owner=0 --group=0 --numeric-owner --mtime=@0 --mode=0644 -f - $members ${SPEC_FILE} ${MANIFEST_FILE}) 2>>"$err" || touch "$work/tar-failed"; } |
  r backup --stdin --stdin-filename ${snapshotFile('"$app"')} --host "$device" ${tagArgs} --json > "$work/backup.out" 2>>"$err"
restic_status=$?
snap=$(grep '"message_type":"summary"' "$work/backup.out" | tail -n 1 | sed -n 's/.*"snapshot_id":"\\([0-9a-f]*\\)".*/\\1/p')
bytes=$(grep '"message_type":"summary"' "$work/backup.out" | tail -n 1 | sed -n 's/.*"total_bytes_processed":\\([0-9]*\\).*/\\1/p')
if [ -e "$work/tar-failed" ]; then
  [ -z "$snap" ] || r forget "$snap" >/dev/null 2>&1 || true
  fail "$(no_room)"
fi
[ "$restic_status" -eq 0 ] && [ -n "$snap" ] || fail "$(said "$err")"
rm -rf "$work"
# restic 0.14 names the new snapshot by its short id: the status keeps the full one.
full=$(r snapshots --json "$snap" 2>>"$err" | grep -oE '"id":"[0-9a-f]{64}"' | head -n 1 | cut -d'"' -f4)
[ -n "$full" ] && snap=$full

# Retention, then a check that reads back a tenth of the data (all of it once a month). The
# next run may skip from this point only once it was checked.
rm -f "$last"
sentence=${s.ok}
r forget --host "$device" --path ${snapshotPath('"$app"')} --group-by host,paths --keep-daily ${RETENTION.daily} --keep-weekly ${RETENTION.weekly} --keep-monthly ${RETENTION.monthly} --prune >/dev/null 2>"$err" || { cat "$err" >&2; sentence=${s.okUntidy}; }
if [ "$(cat "$checked" 2>/dev/null)" = "$(date +%Y-%m)" ]; then
  r check --read-data-subset=1/10 >/dev/null 2>"$err" || { cat "$err" >&2; write_status false ${s.damaged} "\\"$snap\\"" "\${bytes:-0}"; exit 1; }
else
  check_all "$snap" "\${bytes:-0}"
fi
rm -f "$err"
if [ "$skippable" = yes ]; then
  printf 'snapshot %s\\ntaken %s\\nbytes %s\\n%s\\n' "$snap" "$taken" "\${bytes:-0}" "$record" > "$last.hearth-new" &&
    mv -f "$last.hearth-new" "$last"
fi
write_status true "$sentence" "\\"$snap\\"" "\${bytes:-0}"
echo "$snap"
`;
}

/**
 * Puts the templates, the script and (on every device, since any can be a target) the sshd rule
 * in place at provisioning. `units`: the backup units changed (the caller reloads systemd once);
 * `other`: anything else changed. sshd's whole config is tested with the rule in place before
 * sshd is told to reload; a rule it refuses is taken out again.
 */
export async function ensurePeerBackupFiles(
  shell: RemoteShell,
): Promise<{ units: boolean; other: boolean }> {
  let other = await shell.ensureFile(
    deviceLayout.peerBackupScript,
    peerBackupScript(),
    '0755',
    'root:root',
  );
  const service = await shell.ensureFile(
    deviceLayout.backupTemplate,
    backupServiceTemplate(),
    '0644',
    'root:root',
  );
  const timer = await shell.ensureFile(
    deviceLayout.backupTimerTemplate,
    backupTimerTemplate(),
    '0644',
    'root:root',
  );
  const sshdDir = deviceLayout.peerSshdDropIn.slice(
    0,
    deviceLayout.peerSshdDropIn.lastIndexOf('/'),
  );
  if ((await shell.asRoot(`test -d ${shellQuote(sshdDir)}`)).code !== 0)
    return { units: service || timer, other };
  if (await shell.ensureFile(deviceLayout.peerSshdDropIn, peerSshdDropIn(), '0644', 'root:root')) {
    const file = shellQuote(deviceLayout.peerSshdDropIn);
    await shell.checkAsRoot(
      `if sshd -t; then systemctl reload ssh.service 2>/dev/null || systemctl reload sshd.service 2>/dev/null || true; else rm -f ${file}; exit 1; fi`,
      'let other Hearth devices keep backups here',
    );
    other = true;
  }
  return { units: service || timer, other };
}

// --- What the laptop asks of the devices ----------------------------------------------------

function app(appId: AppId): AppId {
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return appId;
}

function device(id: DeviceId): DeviceId {
  if (!isDeviceId(id)) throw new Error(`not a device id: ${JSON.stringify(id)}`);
  return id;
}

const script = shellQuote(deviceLayout.peerBackupScript);

/** The base64 blob of an `ssh-ed25519 AAAA… [comment]` line; anything else is refused. */
export function ed25519Blob(line: string): string {
  const m = /^ssh-ed25519 ([A-Za-z0-9+/]{68})(?: [A-Za-z0-9@._:+-]{0,128})?\n?$/.exec(line);
  if (!m || !ED25519_BLOB.test(m[1] as string) || line.trim().includes('\n'))
    throw new HearthError(
      'DEVICE_GARBLED',
      'The device answered with something that is not its backup key.',
    );
  return m[1] as string;
}

/** The source's own backup key (made on first use, as hearth); returns its public key blob. */
export async function ensureSourceKey(session: ScriptSession, options: ScriptOptions = {}) {
  const key = shellQuote(deviceLayout.peerBackupKey);
  const dir = shellQuote(deviceLayout.peerBackupDir);
  const out = await checkOperation(
    session,
    'peer-key',
    [],
    `umask 077; mkdir -p ${dir} ${dir}/apps ${dir}/targets && chmod 0700 ${dir} && { [ -f ${key} ] || ssh-keygen -q -t ed25519 -N '' -C hearth-backup -f ${key} >/dev/null; } && head -c 512 ${key}.pub`,
    'make its backup key',
    options,
  );
  return ed25519Blob(out);
}

/** On the target: lets the source's key in, SFTP-only in its own folder; returns the account. */
export async function allowPeer(
  target: ScriptSession,
  sourceId: DeviceId,
  keyBlob: string,
  options: ScriptOptions = {},
): Promise<string> {
  const out = await checkOperation(
    target,
    'peer-allow',
    [device(sourceId)],
    agentPeerCommand(sourceId, keyBlob),
    'make room for the backups of another device',
    options,
  );
  const account = out.trim();
  if (account !== peerAccount(sourceId)) throw new HearthError('DEVICE_GARBLED');
  return account;
}

/** On the target: the source's key no longer gets in (its backups stay). */
export async function revokePeer(target: ScriptSession, sourceId: DeviceId): Promise<void> {
  await checkOperation(
    target,
    'peer-revoke',
    [device(sourceId)],
    agentPeerCommand(sourceId, null),
    'stop keeping backups of another device',
  );
}

export interface PeerTarget {
  id: DeviceId;
  /** The host key Hearth trusts for the target (DeviceRecord.hostKeyFingerprint). */
  hostKeyFingerprint: string;
  address: string;
  sshPort: number;
}

const ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;

/**
 * The host key lines the source sees at the target's address, kept only where they are the key
 * Hearth already trusts for the target: a different key is refused (HOST_KEY_CHANGED), so a
 * device pretending to be the target never receives a backup.
 */
export async function trustTarget(
  source: PeerSession,
  target: PeerTarget,
  options: ScriptOptions = {},
): Promise<void> {
  const id = device(target.id);
  if (!ADDRESS.test(target.address) || target.address.startsWith('-'))
    throw new Error(`not an address: ${JSON.stringify(target.address)}`);
  if (!Number.isInteger(target.sshPort) || target.sshPort < 1 || target.sshPort > 65535)
    throw new Error('not a port');
  const scan = await runOperation(
    source,
    'peer-keyscan',
    [id],
    `ssh-keyscan -T 10 -p ${target.sshPort} -- ${shellQuote(target.address)} 2>/dev/null | head -c 16384; true`,
    options,
  );
  const trusted: string[] = [];
  for (const line of scan.stdout.split('\n')) {
    const m = /^\S+ ((?:ssh|ecdsa)-[a-z0-9-]{1,40}) ([A-Za-z0-9+/]{1,1024}={0,2})$/.exec(
      line.trim(),
    );
    if (!m) continue;
    const blob = Buffer.from(m[2] as string, 'base64');
    if (fingerprintOf(blob) === target.hostKeyFingerprint) trusted.push(`${m[1]} ${m[2]}`);
  }
  if (trusted.length === 0)
    throw new HearthError(
      scan.stdout.trim() ? 'HOST_KEY_CHANGED' : 'DEVICE_UNREACHABLE',
      scan.stdout.trim()
        ? 'The device that answers at the other device’s address is not the one Hearth knows, so Hearth sent it nothing.'
        : 'This device could not reach the other device. Check that both are switched on and connected.',
    );
  const p = peerTargetPaths(id);
  const text = trusted.map((t) => `hearth-${id} ${t}\n`).join('');
  await writePrivate(source, 'peer-known-host', [id], p.dir, p.knownHosts, text, options);
}

/** Writes a file of the source's backup folder beside its name and renames it in (0600). */
async function writePrivate(
  session: PeerSession,
  op: string,
  args: string[],
  dir: string,
  path: string,
  text: string,
  options: ScriptOptions,
) {
  await checkOperation(
    session,
    `${op}-dir`,
    args,
    `umask 077; mkdir -p ${shellQuote(dir)}`,
    'keep its backup settings',
    options,
  );
  await session.writeFile(`${path}.hearth-new`, text, 0o600);
  await checkOperation(
    session,
    op,
    args,
    `chmod 0600 ${shellQuote(`${path}.hearth-new`)} && mv -f ${shellQuote(`${path}.hearth-new`)} ${shellQuote(path)}`,
    'keep its backup settings',
    options,
  );
}

/** Where the source sends one app's backups: the target's address, account and password. */
export async function setTarget(
  source: PeerSession,
  sourceId: DeviceId,
  appId: AppId,
  target: PeerTarget,
  password: string,
  options: ScriptOptions = {},
): Promise<void> {
  const id = device(target.id);
  app(appId);
  if (!ADDRESS.test(target.address) || target.address.startsWith('-'))
    throw new Error('not an address');
  if (password.length < 8 || password.length > 1024 || /[\n\r\0]/.test(password))
    throw new Error('not a repository password');
  const p = peerTargetPaths(id);
  const account = peerAccount(device(sourceId));
  await writePrivate(source, 'peer-password', [id], p.dir, p.password, password, options);
  await writePrivate(
    source,
    'peer-target',
    [id],
    p.dir,
    p.conf,
    `host ${target.address}\nport ${target.sshPort}\nuser ${account}\n`,
    options,
  );
  const appTarget = peerAppTarget(appId);
  await writePrivate(
    source,
    'peer-app-target',
    [appId, id],
    appTarget.slice(0, appTarget.lastIndexOf('/')),
    appTarget,
    `${id}\n`,
    options,
  );
}

/** Opens (or makes, on first use) the repository on the target, from the source. */
export async function initPeerRepository(
  source: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<'created' | 'exists'> {
  const out = await runOperation(source, 'peer-init', [app(appId)], `${script} init ${appId}`, {
    timeoutMs: 120_000,
    ...options,
  });
  if (out.code !== 0) throw peerFailure(out.stderr, 'open the backups on the other device');
  return out.stdout.includes('created') ? 'created' : 'exists';
}

function peerFailure(stderr: string, what: string): HearthError {
  // A device prepared before peer backups existed (no script), or one without restic.
  if (/(peer-backup|restic|ssh): (\d+: )?(\S+: )?not found|needs preparing again/i.test(stderr))
    return new HearthError('DEVICE_NEEDS_PREPARING');
  if (/wrong password/i.test(stderr)) return new HearthError('BACKUP_WRONG_PASSWORD');
  if (/already locked/i.test(stderr)) return new HearthError('BACKUP_LOCKED');
  if (/could not be reached|ssh|sftp|connection/i.test(stderr))
    return new HearthError('DEVICE_UNREACHABLE', peerSentences.unreachable);
  return operationFailed(what, { stderr });
}

/**
 * "Back up now" for an app whose copies go to another device: the same script the timer runs,
 * as the same account, now. Its result is in the status file as after a timer run.
 */
export async function runPeerBackupNow(
  source: ScriptSession,
  appId: AppId,
  options: ScriptOptions = {},
): Promise<void> {
  const out = await runOperation(source, 'peer-run', [app(appId)], `${script} run ${appId}`, {
    timeoutMs: 6 * 60 * 60_000,
    ...options,
  });
  if (out.code !== 0) throw peerFailure(out.stderr, 'back it up to the other device');
}

/** The app's backup timer on the source, every `minutes` (isBackupInterval), or off (null). */
export async function schedulePeerBackups(
  source: ScriptSession,
  appId: AppId,
  minutes: number | null,
  options: ScriptOptions = {},
): Promise<void> {
  await checkOperation(
    source,
    'peer-schedule',
    [app(appId), minutes === null ? 'off' : minutes],
    agentBackupCommand(appId, minutes),
    minutes === null ? 'stop its backups' : 'schedule its backups',
    options,
  );
}

export const peerStatusSchema = z.object({
  format: z.literal(1),
  appId: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  targetId: z.string(),
  startedAt: z.number().int().nonnegative(),
  finishedAt: z.number().int().nonnegative(),
  ok: z.boolean(),
  sentence: z.string().max(400),
  snapshotId: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  bytes: z.number().int().nonnegative(),
});
export type PeerBackupStatus = z.infer<typeof peerStatusSchema>;

/** What the source's timer last did for the app, or null (never ran, or unreadable). */
export async function readPeerStatus(
  source: ScriptSession,
  appId: AppId,
): Promise<PeerBackupStatus | null> {
  const out = await runOperation(
    source,
    'peer-status',
    [app(appId)],
    `head -c 4096 ${shellQuote(appPaths(appId).peerStatus)} 2>/dev/null; true`,
    { timeoutMs: 15_000 },
  );
  if (!out.stdout.trim()) return null;
  try {
    const parsed = peerStatusSchema.safeParse(JSON.parse(out.stdout));
    return parsed.success && parsed.data.appId === appId ? parsed.data : null;
  } catch {
    return null;
  }
}

const resticSnapshotSchema = z.object({
  time: z.string().max(64),
  paths: z.array(z.string().max(256)).max(16),
  hostname: z.string().max(253),
  tags: z.array(z.string().max(128)).max(32).optional(),
  id: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * Parses `restic snapshots --json` strictly: the app's own snapshots from this device only, with
 * the facts the run tagged them with (the same tags as the laptop's, toPoint reads both).
 */
export function parsePeerSnapshots(
  stdout: string,
  sourceId: DeviceId,
  appId: AppId,
): BackupPoint[] {
  let value: unknown;
  try {
    value = JSON.parse(stdout.trim() || '[]');
  } catch {
    throw new HearthError('DEVICE_GARBLED');
  }
  const list = z.array(resticSnapshotSchema).max(10_000).safeParse(value);
  if (!list.success) throw new HearthError('DEVICE_GARBLED');
  const points: BackupPoint[] = [];
  for (const s of list.data) {
    if (s.hostname !== sourceId || s.paths.length !== 1 || s.paths[0] !== snapshotPath(appId))
      continue;
    const time = Date.parse(s.time);
    if (!Number.isFinite(time)) throw new HearthError('DEVICE_GARBLED');
    const point = toPoint({ id: s.id, time, host: s.hostname, paths: s.paths, tags: s.tags ?? [] });
    if (point?.appId === appId) points.push(point);
  }
  return points.sort((a, b) => b.takenAt - a.takenAt);
}

/** The app's snapshots on the target, newest first, as the source lists them. */
export async function listPeerSnapshots(source: ScriptSession, sourceId: DeviceId, appId: AppId) {
  const out = await runOperation(
    source,
    'peer-snapshots',
    [app(appId)],
    `${script} snapshots ${appId}`,
    { timeoutMs: 120_000 },
  );
  if (out.code !== 0) throw peerFailure(out.stderr, 'list the backups on the other device');
  return parsePeerSnapshots(out.stdout, device(sourceId), appId);
}

const SNAPSHOT = SNAPSHOT_ID;

/**
 * Downloads one snapshot on the source into the app's restore folder and returns its manifest,
 * parsed strictly, which must be this app's from this device.
 */
export async function fetchPeerSnapshot(
  source: ScriptSession,
  sourceId: DeviceId,
  appId: AppId,
  snapshotId: string,
  options: ScriptOptions = {},
): Promise<BackupManifest> {
  if (!SNAPSHOT.test(snapshotId)) throw new Error('not a snapshot id');
  const out = await runOperation(
    source,
    'peer-fetch',
    [app(appId), snapshotId],
    `${script} fetch ${appId} ${snapshotId}`,
    { timeoutMs: 60 * 60_000, ...options },
  );
  if (out.code === 4) throw new HearthError('BACKUP_BUSY');
  if (out.code !== 0) throw peerFailure(out.stderr, 'fetch the backup from the other device');
  let manifest: BackupManifest;
  try {
    manifest = backupManifestSchema.parse(JSON.parse(out.stdout));
  } catch {
    throw new HearthError('BACKUP_DAMAGED');
  }
  if (manifest.appId !== appId || manifest.deviceId !== sourceId)
    throw new HearthError('BACKUP_DAMAGED');
  return manifest;
}

/** Every restored volume's sha256, computed on the device, against the manifest. */
export async function verifyRestored(
  source: ScriptSession,
  appId: AppId,
  manifest: BackupManifest,
): Promise<boolean> {
  const p = appPaths(app(appId));
  const checks = manifest.volumes
    .map((v) => {
      if (!/^[0-9a-f]{64}$/.test(v.sha256)) throw new Error('not a sha256');
      return `h=$(sha256_of ${shellQuote(`volumes/${v.name}.img`)}) && [ "\${h%% *}" = ${v.sha256} ] || exit 1`;
    })
    .join('\n');
  const out = await runOperation(
    source,
    'restore-verify',
    [appId],
    `cd ${shellQuote(p.restoreDir)} || exit 1\n${sha256Function}\n${checks}`,
    { timeoutMs: 30 * 60_000 },
  );
  return out.code === 0;
}

const lockPrefix = (appId: AppId) =>
  `mkdir -p ${shellQuote(`${appPaths(appId).dir}/state`)} && exec 9>>${shellQuote(appPaths(appId).backupLock)} && flock -w 120 9 || exit 4`;

function volumeNames(manifest: BackupManifest): string[] {
  return manifest.volumes.map((v) => {
    if (!isAppId(v.name)) throw new Error('not a volume name');
    return v.name;
  });
}

/** The console log's size now: health after a restart is judged only on what follows it. */
export async function consoleSize(source: ScriptSession, appId: AppId): Promise<number> {
  const out = await runOperation(
    source,
    'console-size',
    [app(appId)],
    `stat -c %s ${shellQuote(appPaths(appId).consoleLog)} 2>/dev/null || echo 0`,
    { timeoutMs: 15_000 },
  );
  const n = Number(out.stdout.trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** Stops the app (through the agent) and swaps the restored volumes in, keeping the old ones. */
export async function swapInRestored(
  source: ScriptSession,
  appId: AppId,
  manifest: BackupManifest,
): Promise<void> {
  const p = appPaths(app(appId));
  const names = volumeNames(manifest);
  const data = shellQuote(p.data);
  const restored = (v: string) => shellQuote(`${p.restoreDir}/volumes/${v}.img`);
  const swap = names
    .map(
      (v) =>
        `{ [ ! -e ${v}.img ] || mv -f ${v}.img ${v}.img.before-restore; } && mv -f ${restored(v)} ${v}.img || exit 1`,
    )
    .join('\n');
  const out = await runOperation(
    source,
    'restore-swap',
    [appId],
    [
      lockPrefix(appId),
      `cd ${data} || exit 1`,
      // An earlier restore that did not finish still holds the app's own data: never overwrite it.
      ...names.map((v) => `[ ! -e ${v}.img.before-restore ] || { echo unfinished >&2; exit 5; }`),
      ...names.map((v) => `[ -f ${restored(v)} ] || exit 1`),
      agentCommand('stop', appId),
      swap,
    ].join('\n'),
    { timeoutMs: 120_000 },
  );
  if (out.code === 4) throw new HearthError('BACKUP_BUSY');
  if (out.code !== 0) throw operationFailed('put the restored data in place', out);
}

/** Starts the app (a unit systemd gave up on is reset first). */
export async function startApp(source: ScriptSession, appId: AppId): Promise<void> {
  await checkOperation(
    source,
    'restore-start',
    [app(appId)],
    `${agentCommand('reset-failed', appId)}; ${agentCommand('start', appId)}`,
    'start the app',
  );
}

/**
 * Whether the app runs and (when it has a console health pattern) printed it after `offset` of
 * its console log; 'failed' once systemd says the unit failed.
 */
export async function restoredHealth(
  source: ScriptSession,
  appId: AppId,
  offset: number,
): Promise<'healthy' | 'waiting' | 'failed'> {
  const p = appPaths(app(appId));
  const from = Math.max(0, Math.floor(offset)) + 1;
  const out = await runOperation(
    source,
    'restore-health',
    [appId, from],
    [
      `state=$(systemctl is-active ${appUnit(appId)} 2>/dev/null)`,
      'case "$state" in failed) echo failed; exit 0 ;; active) ;; *) echo waiting; exit 0 ;; esac',
      `if [ -s ${shellQuote(p.healthPattern)} ]; then`,
      `  tail -c +${from} ${shellQuote(p.consoleLog)} 2>/dev/null | grep -v '^${BOOT_MARKER}' | grep -qF -f ${shellQuote(p.healthPattern)} || { echo waiting; exit 0; }`,
      'fi',
      'echo healthy',
    ].join('\n'),
    { timeoutMs: 15_000 },
  );
  const said = out.stdout.trim();
  return said === 'healthy' || said === 'failed' ? said : 'waiting';
}

/** The restore holds: the old volumes and the restore folder go. */
export async function commitRestore(source: ScriptSession, appId: AppId, manifest: BackupManifest) {
  const p = appPaths(app(appId));
  const names = volumeNames(manifest);
  await checkOperation(
    source,
    'restore-commit',
    [appId],
    `cd ${shellQuote(p.data)} && rm -f ${names.map((v) => `${v}.img.before-restore`).join(' ')} && rm -rf ${shellQuote(p.restoreDir)}`,
    'tidy up after the restore',
  );
}

/** The restore did not hold: stop the app, put its own volumes back (start is the caller's). */
export async function rollBackRestore(
  source: ScriptSession,
  appId: AppId,
  manifest: BackupManifest,
): Promise<void> {
  const p = appPaths(app(appId));
  const names = volumeNames(manifest);
  await checkOperation(
    source,
    'restore-rollback',
    [appId],
    [
      lockPrefix(appId),
      agentCommand('stop', appId),
      `cd ${shellQuote(p.data)} || exit 1`,
      ...names.map(
        (v) =>
          `if [ -e ${v}.img.before-restore ]; then mv -f ${v}.img.before-restore ${v}.img || exit 1; fi`,
      ),
      `rm -rf ${shellQuote(p.restoreDir)}`,
    ].join('\n'),
    'put the app’s own data back',
  );
}

/** Removes a restore folder a failed download or check left. */
export async function dropRestore(source: ScriptSession, appId: AppId): Promise<void> {
  await runOperation(
    source,
    'restore-drop',
    [app(appId)],
    `rm -rf ${shellQuote(appPaths(appId).restoreDir)}`,
    { timeoutMs: 60_000 },
  );
}
