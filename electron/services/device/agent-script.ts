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
  agentNetVerbs,
  agentPauseVerbs,
  agentPeerReadVerbs,
  agentPeerVerbs,
  agentSleepVerbs,
  agentUnitVerbs,
} from './agent-protocol';
import {
  HEARTH_USER,
  appAvahiFileInShell,
  appNetEnvInShell,
  appNetSlotInShell,
  appUnitInShell,
  appXenDomainInShell,
  backupTimerInShell,
  deviceLayout,
  sleepUnitInShell,
  socketProxyd,
  solo5Network,
} from './layout';
import {
  MAX_IDLE_SECONDS,
  sleepAppDropInText,
  sleepProxyUnitText,
  sleepSocketUnitText,
} from './sleep-units';

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
  /** Tender apps' network slots and the files their run scripts read (solo5Network). */
  netDir: string;
  /** systemd's socket proxy, which a sleeping app needs (sleep-units.ts). */
  socketProxyd: string;
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
  netDir: deviceLayout.netDir,
  socketProxyd,
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

/**
 * The wait of a woken app's proxy (wake-wait), as the hearth account: until the app answers
 * where each proxy forwards, at most 240 s (an emulated boot on a busy device). QEMU's user
 * networking accepts a connection before the guest listens and closes it when the guest
 * refuses, so "accepted" is not "ready": an HTTP port must answer a HEAD, any other port must
 * stay open without closing. Arguments: ADDRESS PORT KIND triples.
 */
const wakeWaitPerl = [
  'use strict; use IO::Socket::INET; use IO::Select;',
  'my $until = time + 240; my @w = @ARGV;',
  'sub ready { my ($addr, $port, $kind) = @_;',
  '  my $s = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $port, Proto => "tcp", Timeout => 2) or return 0;',
  '  my $sel = IO::Select->new($s); my $b = "";',
  '  if ($kind eq "http") { print $s "HEAD / HTTP/1.0\\r\\n\\r\\n"; return 0 unless $sel->can_read(5); return sysread($s, $b, 16) ? 1 : 0 }',
  '  return 1 unless $sel->can_read(1); return sysread($s, $b, 1) ? 1 : 0 }',
  'while (@w) { if (ready($w[0], $w[1], $w[2])) { splice(@w, 0, 3); next }',
  '  if (time > $until) { print STDERR "hearth agent: the app did not answer on port $w[1] within 240 s\\n"; exit 1 }',
  '  select(undef, undef, undef, 0.2) }',
  'exit 0;',
].join(' ');

/** The agent, byte for byte the same on every run (provisioning compares hashes). */
export function agentScript(where: Partial<AgentWhere> = {}): string {
  const w = { ...defaults, ...where };
  const verbs = [
    ...agentUnitVerbs,
    ...agentAvahiVerbs,
    ...agentNetVerbs,
    ...agentSleepVerbs,
    ...agentPauseVerbs,
  ].join('|');
  const appUnitDir = `${w.unitDir}/${appUnitInShell('$app')}.d`;
  const sleepUnit = (kind: 'socket' | 'service', port = '$host') =>
    sleepUnitInShell('$app', port, kind);
  const net = solo5Network;
  // The agent's own folder for these files: a test moves it, the device keeps the layout's.
  const netFile = (of: (e: string) => string) =>
    `${w.netDir}/${of('$app').slice(deviceLayout.netDir.length + 1)}`;
  const slotFile = netFile(appNetSlotInShell);
  const envFile = netFile(appNetEnvInShell);
  const tap = (slot: string, index: string) => net.tapInShell(slot, index);
  const group = deviceLayout.peerGroup;
  const timer = backupTimerInShell('$app');
  return `#!/bin/sh
# Managed by Hearth: the one command the hearth account may run as root (/etc/sudoers.d/hearth).
# usage: agent VERB APP
#   ${agentUnitVerbs.join(', ')}: systemctl VERB ${appUnitInShell('APP')}
#   ${agentAvahiVerbs.join(', ')}: write or remove APP's avahi file (run by the app's unit)
#   ${agentNetVerbs.join(', ')}: APP's taps on ${net.bridge} and its forwarded ports (a Solo5 tender app's unit)
#   ${agentSleepVerbs.join(', ')}: APP sleeps when idle, or no longer; the woken proxy's wait
#   ${agentPauseVerbs.join(', ')}: xl pause/unpause of APP's Xen domain, for a backup's copy
# usage: agent backup-on APP MINUTES | agent backup-off APP
#   ${agentBackupVerbs.join(', ')}: APP's backup timer (${backupTimerInShell('APP')})
# usage: agent peer-allow SOURCE KEY | agent peer-revoke SOURCE
#   ${agentPeerVerbs.join(', ')}: the SFTP-only account another Hearth device (SOURCE, its id)
#   keeps its backups here with; KEY is the base64 of its ed25519 public key
# usage: agent peer-snapshots | agent peer-dump SOURCE APP SNAPSHOT (the password on stdin)
#   ${agentPeerReadVerbs.join(', ')}: read the copies other devices keep here (their device may be dead)
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
  peer-snapshots) [ $# -eq 1 ] || refuse "usage: agent peer-snapshots (the password on stdin)" ;;
  peer-dump) [ $# -eq 4 ] || refuse "usage: agent peer-dump SOURCE APP SNAPSHOT (the password on stdin)" ;;
  *) refuse "not a verb Hearth knows" ;;
esac

check_app() {
  case "$1" in
    [a-z]*) ;;
    *) refuse "not an app id" ;;
  esac
  case "$1" in *[!a-z0-9-]*) refuse "not an app id" ;; esac
  [ \${#1} -le ${SHORT_NAME_MAX} ] || refuse "not an app id"
}

case "$verb" in
  peer-snapshots) ;;
  peer-allow|peer-revoke|peer-dump)
    source=$2
    case "$source" in
      ????????-????-????-????-????????????) ;;
      *) refuse "not a device id" ;;
    esac
    case "$source" in *[!0-9a-f-]*|*-*-*-*-*-*) refuse "not a device id" ;; esac
    account=hb-$(printf '%s' "$source" | tr -d - | cut -c1-12)
    if [ "$verb" = peer-dump ]; then
      app=$3
      check_app "$app"
      snapshot=$4
      case "$snapshot" in ''|*[!0-9a-f]*) refuse "not a snapshot id" ;; esac
      [ \${#snapshot} -ge 8 ] && [ \${#snapshot} -le 64 ] || refuse "not a snapshot id"
    fi
    ;;
  *)
    app=$2
    check_app "$app"
    out=${w.servicesDir}/${appAvahiFileInShell('$app')}
    ;;
esac

# A file of the app's, read as the hearth account (never as root: a link in its folder could
# point anywhere). setpriv where there is one, not runuser: the same account, its groups and
# no privileges, but no PAM session, which cost more than the read itself at every start.
read_as_hearth() {
  if command -v setpriv >/dev/null; then
    setpriv --reuid=${w.user} --regid="$(id -g ${w.user})" --init-groups -- perl -e '${readRegularFile}' "$1"
  else
    runuser -u ${w.user} -- perl -e '${readRegularFile}' "$1"
  fi
}

# True when the app's file $1 is absent or empty (what installs write when it says nothing):
# then it need not be read at all. Root only looks at it; a link is always read carefully
# (and refused).
says_nothing() {
  [ ! -L "$1" ] && { [ ! -e "$1" ] || { [ -f "$1" ] && [ ! -s "$1" ]; }; }
}

advertise() {
  [ -d ${w.servicesDir} ] || exit 0
  src=${w.appsDir}/$app/advertise
  if says_nothing "$src"; then
    if [ -e "$out" ] || [ -L "$out" ]; then rm -f "$out"; fi
    exit 0
  fi
  status=0
  input=$(read_as_hearth "$src") || status=$?
  if [ "$status" = 4 ]; then
    echo "hearth agent: $src is not a regular file; $app is not announced" >&2
  fi
  [ "$status" = 0 ] || input=""
  named=""
  services=""
  while read -r key a b || [ -n "$key" ]; do
    case "$key" in
      name) named="$a $b" ;;
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
  if [ -z "$services" ]; then
    if [ -e "$out" ] || [ -L "$out" ]; then rm -f "$out"; fi
    exit 0
  fi
  # Cleaned only for an app that is announced (four processes, at every start).
  name=Hearth
  [ -z "$named" ] || name=$(printf '%s' "$named" | tr -cd 'A-Za-z0-9 ._-' | cut -c1-48 | sed 's/ *$//')
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

# The app's network file, read as the hearth account like its advertise file: each line
# checked again here. Sets $nets (0 when the app needs none) and $forwards ("PROTO HOST GUEST").
read_network() {
  input=$(read_as_hearth "${w.appsDir}/$app/network") || input=""
  nets=0
  forwards=""
  while read -r key a b c || [ -n "$key" ]; do
    case "$key" in
      nets) case "$a" in [1-${net.maxNets}]) nets=$a ;; esac ;;
      forward)
        case "$a" in tcp|udp) ;; *) continue ;; esac
        case "$b$c" in *[!0-9]*) continue ;; esac
        case "$b" in ''|0*) continue ;; esac
        case "$c" in ''|0*) continue ;; esac
        [ \${#b} -le 5 ] && [ "$b" -le 65535 ] && [ \${#c} -le 5 ] && [ "$c" -le 65535 ] || continue
        forwards="$forwards$a $b $c
" ;;
    esac
  done <<EOF
$input
EOF
}

# The app's slot: its address on ${net.bridge} and the number in its tap and table names, kept
# across restarts; a new app takes the lowest free one (an app folder that is gone frees its).
app_slot() {
  slot=""
  [ -f "${slotFile}" ] && slot=$(cat "${slotFile}")
  case "$slot" in ''|0*|*[!0-9]*) slot="" ;; esac
  if [ -n "$slot" ] && [ "$slot" -ge ${net.firstSlot} ] && [ "$slot" -le ${net.lastSlot} ]; then return 0; fi
  used=" "
  for f in ${w.netDir}/*.slot; do
    [ -f "$f" ] || continue
    other=$(basename "$f" .slot)
    if [ ! -d "${w.appsDir}/$other" ]; then rm -f "$f"; continue; fi
    used="$used$(cat "$f") "
  done
  slot=${net.firstSlot}
  while [ "$slot" -le ${net.lastSlot} ]; do
    case "$used" in *" $slot "*) slot=$((slot + 1)) ;; *) break ;; esac
  done
  [ "$slot" -le ${net.lastSlot} ] || refuse "every address on ${net.bridge} is taken; remove an app first"
  printf '%s\\n' "$slot" > "${slotFile}"
}

# A Solo5 tender app's network (run as root by its unit before the tender starts): one tap per
# network on the Hearth bridge, owned by the hearth account (the tender attaches to it without
# privileges), and its published ports forwarded from the device's own addresses in an nftables
# table of its own. Then the file the run script reads: taps, address, gateway.
# The network slots' folder, locked (fd 9) for a change. Root writes there: never through a link.
net_lock() {
  [ ! -L ${w.netDir} ] || refuse "${w.netDir} is a link, so no network is set up"
  mkdir -p ${w.netDir}
  chmod 0755 ${w.netDir}
  exec 9> ${w.netDir}/.lock
  flock 9
}
net_up() {
  # Most apps (QEMU, Xen) have an empty network file, or none: their start skips the switch to
  # the hearth account and perl.
  if says_nothing "${w.appsDir}/$app/network"; then
    if [ -e "${envFile}" ]; then rm -f "${envFile}"; fi
    exit 0
  fi
  read_network
  [ "$nets" -gt 0 ] || { rm -f "${envFile}"; exit 0; }
  command -v ip >/dev/null || refuse "the ip command (iproute2) is missing, so $app gets no network"
  net_lock
  app_slot
  if ! ip link show ${net.bridge} >/dev/null 2>&1; then
    ip link add ${net.bridge} type bridge
    ip addr add ${net.gateway}/${net.prefix} dev ${net.bridge}
  fi
  ip link set ${net.bridge} up
  env=""
  i=0
  while [ "$i" -lt "$nets" ]; do
    tap=${tap('${slot}', '${i}')}
    ip link del "$tap" >/dev/null 2>&1 || true
    ip tuntap add dev "$tap" mode tap user ${w.user}
    ip link set "$tap" master ${net.bridge} up
    env="\${env}tap$i $tap
"
    i=$((i + 1))
  done
  table=${net.tableInShell('$slot')}
  guest=${net.subnet}.$slot
  nft delete table ip "$table" >/dev/null 2>&1 || true
  if [ -n "$forwards" ]; then
    command -v nft >/dev/null || refuse "nftables (nft) is missing, so $app's ports cannot be reached"
    # Forwarded packets reach the bridge only with forwarding on (a router's setting), asked
    # first: a device that keeps it read-only (a container) must not stop here with it on.
    if [ "$(sysctl -n net.ipv4.ip_forward 2>/dev/null)" != 1 ]; then
      sysctl -qw net.ipv4.ip_forward=1 2>/dev/null || refuse "this device does not let Hearth turn on IP forwarding, so $app's ports cannot be reached"
    fi
    rules=""
    while read -r proto host port; do
      [ -n "$proto" ] || continue
      rules="$rules    fib daddr type local $proto dport $host dnat to $guest:$port
"
    done <<EOF
$forwards
EOF
    printf 'table ip %s {\\n  chain prerouting {\\n    type nat hook prerouting priority dstnat; policy accept;\\n%s  }\\n  chain output {\\n    type nat hook output priority -100; policy accept;\\n%s  }\\n  chain postrouting {\\n    type nat hook postrouting priority srcnat; policy accept;\\n    ip saddr %s oifname != "${net.bridge}" masquerade\\n  }\\n}\\n' "$table" "$rules" "$rules" "$guest" | nft -f -
  fi
  printf '%sipv4 %s/${net.prefix}\\ngateway ${net.gateway}\\n' "$env" "$guest" > "${envFile}.hearth-new"
  chmod 0644 "${envFile}.hearth-new"
  mv -f "${envFile}.hearth-new" "${envFile}"
}

# Takes the app's network down after the tender ended; the slot stays (its address is stable).
net_down() {
  rm -f "${envFile}"
  [ -f "${slotFile}" ] || exit 0
  slot=$(cat "${slotFile}")
  case "$slot" in ''|0*|*[!0-9]*) exit 0 ;; esac
  command -v nft >/dev/null && nft delete table ip "${net.tableInShell('$slot')}" >/dev/null 2>&1 || true
  i=0
  while [ "$i" -lt ${net.maxNets} ]; do
    ip link del "${tap('${slot}', '${i}')}" >/dev/null 2>&1 || true
    i=$((i + 1))
  done
  exit 0
}

# The app's sleep file, read as the hearth account and checked line by line like its network
# file. Sets $idle (seconds) and $wakes ("HOST PORT KIND AT" per published TCP port; AT is
# loopback, where QEMU listens on PORT, or tender, a unikernel at its address on ${net.bridge}).
read_sleep() {
  input=$(runuser -u ${w.user} -- perl -e '${readRegularFile}' "${w.appsDir}/$app/sleep") || input=""
  idle=600
  wakes=""
  while read -r key a b c d e || [ -n "$key" ]; do
    case "$key" in
      idle)
        case "$a" in ''|0*|*[!0-9]*) continue ;; esac
        [ \${#a} -le 6 ] && [ "$a" -le ${MAX_IDLE_SECONDS} ] && idle=$a ;;
      wake)
        [ "$a" = tcp ] || continue
        case "$b$c" in *[!0-9]*) continue ;; esac
        case "$b" in ''|0*) continue ;; esac
        case "$c" in ''|0*) continue ;; esac
        case "$d" in http|tcp) ;; *) continue ;; esac
        case "$e" in '') at=loopback ;; tender) at=tender ;; *) continue ;; esac
        [ \${#b} -le 5 ] && [ "$b" -le 65535 ] && [ \${#c} -le 5 ] && [ "$c" -le 65535 ] || continue
        # On loopback the published port is the socket's own: the app must listen elsewhere.
        [ "$at" = tender ] || [ "$b" != "$c" ] || continue
        wakes="$wakes$b $c $d $at
" ;;
    esac
  done <<EOF
$input
EOF
}

# Where the woken app answers, for AT ($1): sets $addr. A tender app's address is its slot's.
wake_address() {
  addr=127.0.0.1
  [ "$1" = tender ] || return 0
  slot=""
  [ -f "${slotFile}" ] && slot=$(cat "${slotFile}")
  case "$slot" in ''|0*|*[!0-9]*) refuse "$app has no address on ${net.bridge} yet; turn sleeping off and on again" ;; esac
  addr=${net.subnet}.$slot
}

# Takes away the app's sleep units (the socket first, so no visit wakes it meanwhile).
sleep_units_off() {
  for f in ${w.unitDir}/${sleepUnit('socket', '*')} ${w.unitDir}/${sleepUnit('service', '*')}; do
    [ -f "$f" ] || continue
    systemctl disable --now "$(basename "$f")" >/dev/null 2>&1 || true
  done
  rm -f ${w.unitDir}/${sleepUnit('socket', '*')} ${w.unitDir}/${sleepUnit('service', '*')} "${appUnitDir}/sleep.conf"
}

# The app sleeps when idle: a socket on each published port, the proxy a visit starts, and the
# app no longer started at boot but by the first visit (sleep-units.ts). The app is stopped
# (gracefully) first, so its published ports are free for the sockets.
sleep_on() {
  read_sleep
  [ -n "$wakes" ] || refuse "$app publishes no TCP port, so no visit could wake it; it keeps running instead"
  [ -x ${w.socketProxyd} ] || refuse "this device's systemd has no socket proxy, so $app cannot sleep"
  case "$wakes" in
    *" tender
"*)
      # The address its proxies reach it at, taken now (net-up keeps the same one).
      net_lock
      app_slot
      exec 9>&-
      ;;
  esac
  sleep_units_off
  mkdir -p "${appUnitDir}"
  cat > "${appUnitDir}/sleep.conf" <<UNIT
${sleepAppDropInText()}UNIT
  sockets=""
  while read -r host port kind at; do
    [ -n "$host" ] || continue
    wake_address "$at"
    cat > "${w.unitDir}/${sleepUnit('socket')}" <<UNIT
${sleepSocketUnitText('$app', '$host')}UNIT
    cat > "${w.unitDir}/${sleepUnit('service')}" <<UNIT
${sleepProxyUnitText('$app', '$host', '$addr:$port', '${idle}')}UNIT
    sockets="$sockets ${sleepUnit('socket')}"
  done <<EOF
$wakes
EOF
  systemctl daemon-reload
  systemctl disable "${appUnitInShell('$app')}" >/dev/null 2>&1 || true
  systemctl stop "${appUnitInShell('$app')}" || true
  systemctl reset-failed "${appUnitInShell('$app')}" >/dev/null 2>&1 || true
  # One unit name per word, each built from validated numbers.
  exec systemctl enable --now $sockets
}

# The app no longer sleeps: its sleep units go; the laptop enables and starts it as before.
sleep_off() {
  sleep_units_off
  exec systemctl daemon-reload
}

# Wakes a sleeping app as a visit would: its proxies start (each gets its socket) and so does it.
wake() {
  proxies=""
  for f in ${w.unitDir}/${sleepUnit('service', '*')}; do
    [ -f "$f" ] && proxies="$proxies $(basename "$f")"
  done
  [ -n "$proxies" ] || refuse "$app sleeps when idle but has no sleep units; turn sleeping off and on again"
  # One unit name per word, each built from validated numbers.
  exec systemctl start $proxies
}

# The woken proxy's wait (ExecStartPre=+): until the app answers where each proxy forwards.
wake_wait() {
  read_sleep
  triples=""
  while read -r host port kind at; do
    [ -n "$host" ] || continue
    wake_address "$at"
    triples="$triples $addr $port $kind"
  done <<EOF
$wakes
EOF
  # Validated addresses, numbers and words, one each.
  exec runuser -u ${w.user} -- perl -e '${wakeWaitPerl}' $triples
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

# The backups' password, the first line of stdin (a command line would show it to every account).
peer_password() {
  password=
  IFS= read -r password || [ -n "$password" ] || refuse "the backups' password comes on stdin"
  [ \${#password} -ge 8 ] && [ \${#password} -le 1024 ] || refuse "not a backups password"
  exec </dev/null
}

# Whether ACCOUNT is one peer_allow made (and not, say, a person's account that happens to match).
peer_account_ok() {
  entry=$(getent passwd "$1") || return 1
  case "$entry" in *:/usr/sbin/nologin) ;; *) return 1 ;; esac
  id -nG "$1" | tr ' ' '\n' | grep -qx ${group}
}

# restic on ACCOUNT's repository as ACCOUNT itself (the files are its own, and what a source
# device wrote is never parsed as root), without a lock or a cache: nothing is written there.
peer_restic() {
  acct=$1
  shift
  for d in "${w.peerChrootsDir}/$acct" "${w.peerChrootsDir}/$acct/repo"; do
    [ ! -L "$d" ] && [ -d "$d" ] || return 3
  done
  RESTIC_PASSWORD=$password RESTIC_PROGRESS_FPS=0.016 setpriv --reuid="$acct" --regid=${group} --clear-groups -- \
    restic --no-lock --no-cache -r "${w.peerChrootsDir}/$acct/repo" "$@"
}

# Every source account's snapshots, one line each: ACCOUNT ok JSON, or ACCOUNT failed WHY.
peer_snapshots() {
  peer_password
  for d in ${w.peerChrootsDir}/hb-*; do
    acct=\${d##*/}
    case "$acct" in hb-????????????) ;; *) continue ;; esac
    case "$acct" in hb-*[!0-9a-f]*) continue ;; esac
    peer_account_ok "$acct" || continue
    err=$(mktemp)
    if listed=$(peer_restic "$acct" snapshots --json --tag hearth 2>"$err"); then
      printf '%s ok %s\n' "$acct" "$(printf '%s' "$listed" | tr -d '\n')"
    elif grep -qi 'wrong password' "$err"; then
      echo "$acct failed wrong-password"
    else
      echo "$acct failed unreadable"
    fi
    cat "$err" >&2
    rm -f "$err"
  done
}

peer_dump() {
  peer_password
  peer_account_ok "$account" || refuse "this device keeps no backups of $source"
  peer_restic "$account" dump "$snapshot" "/$app.tar"
}

# A Xen app's domain, held still while a backup copies its volumes (app-pause.ts). Only a running
# domain is paused (one already paused is left as it is: "not-running", and its resume is not
# this caller's), and only a paused one unpaused. No domain at all is refused: the caller asks
# only while the app's unit runs, so its volumes may be in use by a domain xl cannot see.
xen_state() {
  command -v xl >/dev/null || refuse "$app is not a Xen app: this device has no xl"
  # xl list: a header, then NAME ID MEM VCPUS STATE TIME; STATE's third letter is p when paused.
  listed=yes
  out=$(xl list "${appXenDomainInShell('$app')}" 2>/dev/null) || listed=no
  state=$(printf '%s\n' "$out" | awk 'NR == 2 { print $5 }')
}
xen_pause() {
  xen_state
  case "$state" in
    '') refuse "$app has no Xen domain that could be paused" ;;
    ??p*) echo not-running ;;
    *) xl pause "${appXenDomainInShell('$app')}"; echo paused ;;
  esac
}
xen_resume() {
  xen_state
  if [ "$listed" = no ]; then
    # No such domain (the app stopped meanwhile): nothing to resume. xl itself not answering is
    # refused, so that the caller asks again rather than leave the domain paused.
    all=$(xl list 2>/dev/null) || refuse "xl did not answer, so $app could not be resumed"
    case "$all" in *"${appXenDomainInShell('$app')} "*) refuse "xl did not answer for $app, so it could not be resumed" ;; esac
    exit 0
  fi
  case "$state" in ??p*) exec xl unpause "${appXenDomainInShell('$app')}" ;; esac
}

case "$verb" in
  advertise) advertise ;;
  pause) xen_pause ;;
  resume) xen_resume ;;
  withdraw) rm -f "$out" ;;
  net-up) net_up ;;
  net-down) net_down ;;
  sleep-on) sleep_on ;;
  sleep-off) sleep_off ;;
  wake-wait) wake_wait ;;
  backup-on) backup_on "$3" ;;
  backup-off) backup_off ;;
  peer-allow) peer_allow "$3" ;;
  peer-snapshots) peer_snapshots ;;
  peer-dump) peer_dump ;;
  # The key goes; the account and the backups it made stay (the owner may still restore them).
  peer-revoke) rm -f "${w.peerKeysDir}/$account" ;;
  *)
    # An app that sleeps when idle is started by its proxies, never by hand or at boot: started
    # alone, nothing would need it and systemd would stop it at once. So a start (an install's,
    # an update's, a restore's, the owner's) wakes it as a visit would, and it falls asleep
    # again after its idle time; a stop puts it to sleep (its sockets stay).
    if [ -f "${appUnitDir}/sleep.conf" ]; then
      case "$verb" in
        enable) exit 0 ;;
        start) wake ;;
        restart) systemctl is-active --quiet "${appUnitInShell('$app')}" || wake ;;
      esac
    fi
    exec systemctl "$verb" "${appUnitInShell('$app')}" ;;
esac
`;
}
