// Every command provisioning runs on a device, as the signing-in user or as root, built in one
// place: the device contract. Provisioning decides what to run and reads the answers; it never
// writes a command itself. (The operations after provisioning are DeviceClient's.)
import { asHearth } from './hearth-trees';
import { HEARTH_HOME, HEARTH_USER, deviceLayout, solo5TenderDirs, solo5Tenders } from './layout';
import { shellQuote } from './shell-quote';

/**
 * One shell script, one round trip; each section is marked so the parser can find it. An SSH
 * session's PATH on Debian has no sbin folders for a plain user, where avahi-daemon, visudo and
 * xl live: they are added so `command -v` finds the tools a root service would run.
 */
export const capabilitiesScript = [
  'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH',
  'echo "@arch"; uname -m',
  'echo "@os"; cat /etc/os-release 2>/dev/null',
  'echo "@xen"; cat /proc/xen/capabilities 2>/dev/null; command -v xl >/dev/null 2>&1 && echo xl',
  'echo "@kvm"; test -c /dev/kvm && echo present',
  'echo "@tools"; for t in qemu-system-x86_64 qemu-system-aarch64 qemu-img restic avahi-daemon systemctl visudo; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done',
  // Solo5's tenders come from outside Debian (a package the owner installs): looked for on the
  // PATH and in the two folders such packages use, which is where the app unit's PATH finds them.
  `echo "@tenders"; for t in ${solo5Tenders.join(' ')}; do for d in $(command -v "$t" 2>/dev/null) ${solo5TenderDirs.map((d) => `${d}/$t`).join(' ')}; do [ -x "$d" ] && [ -f "$d" ] && echo "$t" && break; done; done`,
  // spt's sandbox is a seccomp filter: a kernel without seccomp cannot run it.
  'echo "@seccomp"; grep -q "^Seccomp:" /proc/self/status 2>/dev/null && echo present',
  'echo "@mem"; grep -E "^(MemTotal|MemAvailable):" /proc/meminfo',
  'echo "@disk"; df -Pk /var/lib 2>/dev/null | tail -n 1',
  'echo "@end"',
].join('; ');

export type XenConsoleFlavour = 'debian' | 'upstream';

export const xenConsoleSettingsFile: Record<XenConsoleFlavour, string> = {
  debian: '/etc/default/xen',
  upstream: '/etc/default/xencommons',
};

/** Prints which of the two setups runs xenconsoled here, or "unknown". */
export const xenConsoleFlavourScript = [
  'if systemctl cat xenconsoled.service >/dev/null 2>&1; then echo upstream',
  'elif [ -x /etc/init.d/xen ] && grep -q XENCONSOLED_ARGS /etc/init.d/xen; then echo debian',
  'else echo unknown; fi',
].join('\n');

/**
 * Restarts xenconsoled alone, only after its setting changed; running guests keep running (it
 * reattaches to their consoles). On Debian, restarting xen.service would also restart dom0's
 * QEMU, which serves running guests' file-backed disks (qdisk), so xenconsoled is stopped by
 * its pid file and started again the way /etc/init.d/xen starts it, as a transient unit so
 * systemd keeps track of it until the next boot, when xen.service starts it with the new file.
 */
export function restartXenconsoledScript(flavour: XenConsoleFlavour): string {
  if (flavour === 'upstream') return 'systemctl restart xenconsoled.service';
  return [
    'set -e',
    'XENCONSOLED_ARGS=',
    '. /etc/default/xen',
    'daemon="$(/usr/lib/xen-common/bin/xen-dir)/bin/xenconsoled"',
    'start-stop-daemon --stop --quiet --retry=TERM/30/KILL/5 --pidfile /run/xenconsoled.pid --name xenconsoled || true',
    'rm -f /run/xenconsoled.pid',
    'systemctl reset-failed hearth-xenconsoled.service >/dev/null 2>&1 || true',
    'systemd-run --quiet --collect --unit=hearth-xenconsoled --property=Type=forking --property=PIDFile=/run/xenconsoled.pid "$daemon" $XENCONSOLED_ARGS --pid-file /run/xenconsoled.pid',
  ].join('\n');
}

export const prepareCommands = {
  /** The hearth account's passwd entry, if there is one. */
  hearthAccount: `getent passwd ${HEARTH_USER}`,
  createHearthAccount: `useradd --system --create-home --home-dir ${HEARTH_HOME} --shell /bin/sh ${HEARTH_USER}`,
  hearthGroups: `id -nG ${HEARTH_USER}`,
  kvmGroupExists: 'getent group kvm',
  addHearthToKvm: `usermod -aG kvm ${HEARTH_USER}`,
  hostname: 'hostname',
  installPackages: (packages: readonly string[]) => {
    for (const p of packages)
      if (!/^[a-z0-9][a-z0-9+.-]*$/.test(p)) throw new Error(`not a package name: ${p}`);
    return `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  },
  /** nftables, which forwards a Solo5 tender app's ports (the agent's net-up). */
  nftablesPresent: 'PATH="$PATH:/usr/sbin:/sbin"; command -v nft',
  /** The KVM marker is in the hearth account's tree: looked at and removed as hearth. */
  kvmFailureNoted: asHearth(`test -e ${shellQuote(deviceLayout.kvmUnusable)}`),
  forgetKvmFailure: asHearth(`rm -f ${shellQuote(deviceLayout.kvmUnusable)}`),
  checkSudoers: (staged: string) => `visudo -cf ${shellQuote(staged)} >/dev/null`,
  makeConfigDir: `install -d -m 755 -o root -g root ${deviceLayout.configDir}`,
  // /var/lib is root's, so root may make the hearth account's folder there; inside it, the
  // hearth account does the work itself (hearth-trees.ts).
  makeStateDir: `install -d -m 750 -o ${HEARTH_USER} -g ${HEARTH_USER} ${deviceLayout.stateDir}`,
  reloadUnits: 'systemctl daemon-reload',
  /** Asked as the hearth account: may it run the agent as root now? */
  mayRunAgent: `sudo -n -l ${deviceLayout.agent}`,
  readFile: (path: string) => `cat -- ${shellQuote(path)}`,
  modeAndOwner: (path: string) => `stat -c '%a %U:%G' -- ${shellQuote(path)}`,
  presentOrLink: (path: string) => `test -e ${shellQuote(path)} || test -L ${shellQuote(path)}`,
  removeFile: (path: string) => `rm -f ${shellQuote(path)}`,
  removeFileAndEmptyFolder: (path: string) =>
    `rm -f ${shellQuote(path)} && { rmdir ${shellQuote(path.slice(0, path.lastIndexOf('/')))} 2>/dev/null || true; }`,
} as const;
