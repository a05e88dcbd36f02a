// The device side of agent-protocol.ts: the POSIX sh script provisioning installs, root-owned, at
// deviceLayout.agent. It is the one command sudoers lets the hearth account run as root, so it
// trusts nothing it is given: exactly two arguments, a verb from agentVerbs and an app id of the
// shared pattern, checked here again (sudo passes any arguments through), then one fixed action.
// The app unit runs it too, as root (ExecStartPost=+), to announce the app over avahi.
import { SHORT_NAME_MAX } from '../../../shared/ids';
import { agentAvahiVerbs, agentUnitVerbs } from './agent-protocol';
import { HEARTH_USER, appAvahiFileInShell, appUnitInShell, deviceLayout } from './layout';

export interface AgentWhere {
  appsDir: string;
  servicesDir: string;
  /** The account whose files the agent reads (never as root). */
  user: string;
  /** The PATH the agent sets for itself; tests put a recording systemctl first. */
  path: string;
}

const defaults: AgentWhere = {
  appsDir: deviceLayout.appsDir,
  servicesDir: deviceLayout.avahiServicesDir,
  user: HEARTH_USER,
  path: '/usr/sbin:/usr/bin:/sbin:/bin',
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
  return `#!/bin/sh
# Managed by Hearth: the one command the hearth account may run as root (/etc/sudoers.d/hearth).
# usage: agent VERB APP
#   ${agentUnitVerbs.join(', ')}: systemctl VERB ${appUnitInShell('APP')}
#   ${agentAvahiVerbs.join(', ')}: write or remove APP's avahi file (run by the app's unit)
set -eu
# Nothing from the caller's environment decides what runs or how patterns match.
PATH=${w.path}
LC_ALL=C
export PATH LC_ALL
umask 022
refuse() { echo "hearth agent: $1" >&2; exit 2; }
[ $# -eq 2 ] || refuse "usage: agent VERB APP (exactly two arguments)"
verb=$1
app=$2
case "$verb" in
  ${verbs}) ;;
  *) refuse "not a verb Hearth knows" ;;
esac
case "$app" in
  [a-z]*) ;;
  *) refuse "not an app id" ;;
esac
case "$app" in *[!a-z0-9-]*) refuse "not an app id" ;; esac
[ \${#app} -le ${SHORT_NAME_MAX} ] || refuse "not an app id"
out=${w.servicesDir}/${appAvahiFileInShell('$app')}

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

case "$verb" in
  advertise) advertise ;;
  withdraw) rm -f "$out" ;;
  *) exec systemctl "$verb" "${appUnitInShell('$app')}" ;;
esac
`;
}
