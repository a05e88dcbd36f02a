// The device side of agent-protocol.ts: the POSIX sh script provisioning installs, root-owned, at
// deviceLayout.agent. It is the one command sudoers lets the hearth account run as root, so it
// trusts nothing it is given: a verb it knows and exactly that verb's arguments (an app id of the
// shared pattern, a Hearth device id, an interval, an ed25519 key), checked here again (sudo
// passes any arguments through), then one fixed action.
// The app unit runs it too, as root (ExecStartPost=+), to announce the app over avahi.
import { SHORT_NAME_MAX } from '../../../shared/ids';
import {
  agentAvahiVerbs,
  agentBackupVerbs,
  agentPeerVerbs,
  agentUnitVerbs,
} from './agent-protocol';
import {
  HEARTH_USER,
  appAvahiFileInShell,
  appUnitInShell,
  backupTimerInShell,
  deviceLayout,
} from './layout';

export interface AgentWhere {
  appsDir: string;
  servicesDir: string;
  /** The account whose files the agent reads (never as root). */
  user: string;
  /** The PATH the agent sets for itself; tests put a recording systemctl first. */
  path: string;
  /** Where systemd units live (the backup timers' schedule drop-ins go beside them). */
  unitDir: string;
  /** On a target device: the sshd rule, the peer keys, the peer chroots (peer-backups.ts). */
  sshdDropIn: string;
  peerKeysDir: string;
  peerChrootsDir: string;
}

const defaults: AgentWhere = {
  appsDir: deviceLayout.appsDir,
  servicesDir: deviceLayout.avahiServicesDir,
  user: HEARTH_USER,
  path: '/usr/sbin:/usr/bin:/sbin:/bin',
  unitDir: '/etc/systemd/system',
  sshdDropIn: deviceLayout.peerSshdDropIn,
  peerKeysDir: deviceLayout.peerKeysDir,
  peerChrootsDir: deviceLayout.peerChrootsDir,
};

/**
 * Opens the app's advertise file as the hearth account without following a symlink and without
 * blocking (a FIFO would otherwise hang the reader forever), then insists on a regular file by
 * fstat of what it opened, so nothing can be swapped in between the check and the read. perl-base
 * is Essential in Debian; no single quotes inside (it is embedded in single quotes).
 */
const readRegularFile = [
  'use Fcntl;',
  'sysopen(my $f, $ARGV[0], O_RDONLY | O_NOFOLLOW | O_NONBLOCK) or exit($!{ELOOP} ? 4 : 3);',
  '-f $f or exit 4;',
  'my $b = ""; sysread($f, $b, 4096); print $b;',
].join(' ');

/** The agent, byte for byte the same on every run (provisioning compares hashes). */
export function agentScript(where: Partial<AgentWhere> = {}): string {
  const w = { ...defaults, ...where };
  const verbs = [...agentUnitVerbs, ...agentAvahiVerbs].join('|');
  const group = deviceLayout.peerGroup;
  const timer = backupTimerInShell('$app');
  return `#!/bin/sh
# Managed by Hearth: the one command the hearth account may run as root (/etc/sudoers.d/hearth).
# usage: agent VERB APP
#   ${agentUnitVerbs.join(', ')}: systemctl VERB ${appUnitInShell('APP')}
#   ${agentAvahiVerbs.join(', ')}: write or remove APP's avahi file (run by the app's unit)
# usage: agent backup-on APP MINUTES | agent backup-off APP
#   ${agentBackupVerbs.join(', ')}: APP's backup timer (${backupTimerInShell('APP')})
# usage: agent peer-allow SOURCE KEY | agent peer-revoke SOURCE
#   ${agentPeerVerbs.join(', ')}: the SFTP-only account another Hearth device (SOURCE, its id)
#   keeps its backups here with; KEY is the base64 of its ed25519 public key
set -eu
# Nothing from the caller's environment decides what runs or how patterns match.
PATH=${w.path}
LC_ALL=C
export PATH LC_ALL
umask 022
refuse() { echo "hearth agent: $1" >&2; exit 2; }
[ $# -ge 1 ] || refuse "usage: agent VERB APP (exactly two arguments)"
verb=$1
case "$verb" in
  ${verbs}) [ $# -eq 2 ] || refuse "usage: agent VERB APP (exactly two arguments)" ;;
  backup-off|peer-revoke) [ $# -eq 2 ] || refuse "usage: agent $verb ID (exactly two arguments)" ;;
  backup-on|peer-allow) [ $# -eq 3 ] || refuse "usage: agent $verb ID VALUE (exactly three arguments)" ;;
  *) refuse "not a verb Hearth knows" ;;
esac

case "$verb" in
  peer-allow|peer-revoke)
    source=$2
    case "$source" in
      ????????-????-????-????-????????????) ;;
      *) refuse "not a device id" ;;
    esac
    case "$source" in *[!0-9a-f-]*|*-*-*-*-*-*) refuse "not a device id" ;; esac
    account=hb-$(printf '%s' "$source" | tr -d - | cut -c1-12)
    ;;
  *)
    app=$2
    case "$app" in
      [a-z]*) ;;
      *) refuse "not an app id" ;;
    esac
    case "$app" in *[!a-z0-9-]*) refuse "not an app id" ;; esac
    [ \${#app} -le ${SHORT_NAME_MAX} ] || refuse "not an app id"
    out=${w.servicesDir}/${appAvahiFileInShell('$app')}
    ;;
esac

advertise() {
  [ -d ${w.servicesDir} ] || exit 0
  src=${w.appsDir}/$app/advertise
  status=0
  input=$(runuser -u ${w.user} -- perl -e '${readRegularFile}' "$src") || status=$?
  if [ "$status" = 4 ]; then
    echo "hearth agent: $src is not a regular file; $app is not announced" >&2
  fi
  [ "$status" = 0 ] || input=""
  name=Hearth
  services=""
  while read -r key a b || [ -n "$key" ]; do
    case "$key" in
      name) name=$(printf '%s %s' "$a" "$b" | tr -cd 'A-Za-z0-9 ._-' | cut -c1-48 | sed 's/ *$//') ;;
      service)
        case "$a" in _[a-z0-9]*._tcp|_[a-z0-9]*._udp) ;; *) continue ;; esac
        case "$a" in *[!a-z0-9._-]*) continue ;; esac
        case "$b" in ''|*[!0-9]*) continue ;; esac
        [ \${#b} -le 5 ] && [ "$b" -ge 1 ] && [ "$b" -le 65535 ] || continue
        services="$services  <service><type>$a</type><port>$b</port></service>
" ;;
    esac
  done <<EOF
$input
EOF
  if [ -z "$services" ]; then rm -f "$out"; exit 0; fi
  {
    echo "<?xml version=\\"1.0\\" standalone='no'?>"
    echo '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">'
    echo '<!-- Managed by Hearth: present while the app runs. -->'
    echo '<service-group>'
    echo "  <name replace-wildcards=\\"yes\\">\${name:-Hearth} on %h</name>"
    printf '%s' "$services"
    echo '</service-group>'
  } > "$out.hearth-new"
  chmod 0644 "$out.hearth-new"
  mv -f "$out.hearth-new" "$out"
}

# The app's backup timer, at an interval a calendar can keep (minutes dividing an hour, hours
# dividing a day), so that Persistent=true runs a backup missed while the device was off.
backup_on() {
  minutes=$1
  case "$minutes" in ''|0*|*[!0-9]*) refuse "not a backup interval" ;; esac
  [ \${#minutes} -le 4 ] || refuse "not a backup interval"
  if [ "$minutes" -lt 60 ] && [ $((60 % minutes)) -eq 0 ]; then
    calendar="*-*-* *:00/$minutes:00"
  elif [ "$minutes" -le 1440 ] && [ $((minutes % 60)) -eq 0 ] && [ $((1440 % minutes)) -eq 0 ]; then
    calendar="*-*-* 00/$((minutes / 60)):00:00"
  else
    refuse "not a backup interval"
  fi
  [ -f ${w.unitDir}/hearth-backup@.timer ] || refuse "this device needs preparing again for backups"
  dir="${w.unitDir}/${timer}.d"
  mkdir -p "$dir"
  printf '# Managed by Hearth: when %s is backed up.\\n[Timer]\\nOnCalendar=\\nOnCalendar=%s\\n' "$app" "$calendar" > "$dir/schedule.conf.hearth-new"
  chmod 0644 "$dir/schedule.conf.hearth-new"
  mv -f "$dir/schedule.conf.hearth-new" "$dir/schedule.conf"
  systemctl daemon-reload
  systemctl enable "${timer}"
  exec systemctl restart "${timer}"
}

backup_off() {
  systemctl disable --now "${timer}" || true
  rm -rf "${w.unitDir}/${timer}.d"
  exec systemctl daemon-reload
}

# Another Hearth device's account: SFTP inside its own root-owned chroot and nothing else (the
# sshd rule ${w.sshdDropIn} matches the ${group} group), its key in a root-owned file it
# cannot change. Nothing the caller gives reaches a path but the validated id.
peer_allow() {
  key=$1
  [ \${#key} -eq 68 ] || refuse "not an ed25519 public key"
  case "$key" in AAAAC3NzaC1lZDI1NTE5AAAAI*) ;; *) refuse "not an ed25519 public key" ;; esac
  case "$key" in *[!A-Za-z0-9+/]*) refuse "not an ed25519 public key" ;; esac
  [ -f ${w.sshdDropIn} ] || refuse "this device needs preparing again to keep other devices' backups"
  getent group ${group} >/dev/null || groupadd --system ${group}
  if entry=$(getent passwd "$account"); then
    case "$entry" in
      *:/usr/sbin/nologin) ;;
      *) refuse "$account exists and is not a Hearth backup account" ;;
    esac
    id -nG "$account" | tr ' ' '\\n' | grep -qx ${group} || refuse "$account exists and is not a Hearth backup account"
  else
    useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --gid ${group} --comment "Hearth backups of another device" "$account"
  fi
  # "*": no password at all ("!", a locked account, can refuse its key too).
  usermod -p '*' "$account"
  chroot="${w.peerChrootsDir}/$account"
  for d in ${w.peerChrootsDir} "$chroot"; do
    [ ! -L "$d" ] || refuse "$d is a link; someone may have tampered with this device"
    mkdir -p "$d"
    chown root:root "$d"
    chmod 0755 "$d"
  done
  [ ! -L "$chroot/repo" ] || refuse "$chroot/repo is a link; someone may have tampered with this device"
  if [ ! -d "$chroot/repo" ]; then
    mkdir -m 0700 "$chroot/repo"
    chown "$account:${group}" "$chroot/repo"
  fi
  mkdir -p ${w.peerKeysDir}
  chmod 0755 ${w.peerKeysDir}
  keys="${w.peerKeysDir}/$account"
  printf 'restrict ssh-ed25519 %s hearth-backup@%s\\n' "$key" "$source" > "$keys.hearth-new"
  chmod 0644 "$keys.hearth-new"
  mv -f "$keys.hearth-new" "$keys"
  echo "$account"
}

case "$verb" in
  advertise) advertise ;;
  withdraw) rm -f "$out" ;;
  backup-on) backup_on "$3" ;;
  backup-off) backup_off ;;
  peer-allow) peer_allow "$3" ;;
  # The key goes; the account and the backups it made stay (the owner may still restore them).
  peer-revoke) rm -f "${w.peerKeysDir}/$account" ;;
  *) exec systemctl "$verb" "${appUnitInShell('$app')}" ;;
esac
`;
}
