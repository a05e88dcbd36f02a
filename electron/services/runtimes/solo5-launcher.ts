// The Solo5 tender launcher (solo5-hvt and solo5-spt take the same command line, per Solo5's
// tenders/*/ *_main.c and their net and block modules):
//   solo5-<tender> [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
//   --mem=MB, --net:NAME=IFACE, --net-mac:NAME=HWADDR, --block:NAME=PATH
// A tender refuses to start unless every device in the image's manifest is attached, so the
// binding is checked here, before anything reaches the device, and refused with
// SOLO5_DEVICE_MISSING naming the device Hearth cannot give.
//
// Networks: each manifest network gets a tap on the device's Hearth bridge, made by the root
// agent before the app starts (net-up, from the app's `network` file). The tap names and the
// app's address are the agent's (it allocates them among the device's apps), so the run script
// reads them from the agent's file at start and checks their shape before using them.
import { createHash } from 'node:crypto';
import { HearthError } from '../../../shared/errors';
import { appNetEnvInShell, appUnit, solo5Network } from '../device/layout';
import { shellQuote } from '../device/shell-quote';
import { validateLaunchSpec } from './launch-spec';
import type { LaunchSpec } from './launch-spec';
import { consoleLogPrologue } from './qemu-launcher';
import { volumeNameFor } from './solo5-manifest';

export type Tender = 'hvt' | 'spt';

/** An image whose manifest asks for something Hearth cannot attach; said before any upload. */
function missing(message: string): never {
  throw new HearthError('SOLO5_DEVICE_MISSING', message);
}

/**
 * A stable, locally administered MAC per device, app and network: the unikernel keeps its
 * address in the bridge's neighbour tables across restarts (Solo5 would pick a random one).
 */
export function solo5Mac(hostId: string, appId: string, netName: string): string {
  const h = createHash('sha256').update(`hearth-solo5-net:${hostId}:${appId}:${netName}`).digest();
  const bytes = [...h.subarray(0, 6)];
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02; // unicast, locally administered
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The shell variable that holds network `index`'s tap (set from the agent's file). */
const tapVar = (index: number) => `tap${index}`;

/** One argv word, single-quoted, or a word that expands one of the run script's variables. */
type Word = { text: string } | { shell: string };

/** Checks the manifest against what the app has; returns the tender's argv as words. */
export function solo5Words(tender: Tender, spec: LaunchSpec): Word[] {
  validateLaunchSpec(spec);
  const manifest = spec.solo5;
  if (!manifest)
    missing(
      `Hearth does not know which devices this Solo5 ${tender} image needs (its manifest was not read), so it did not start it.`,
    );
  const nets = manifest.devices.filter((d) => d.type === 'NET_BASIC');
  const blocks = manifest.devices.filter((d) => d.type === 'BLOCK_BASIC');
  // MirageOS takes the address of the stack with no group as --ipv4 and --ipv4-gateway, and a
  // stack in group G as --G-ipv4 (mirage's lib_runtime/mirage_runtime_network.ml: the option is
  // `G-` ^ name). Which network a group belongs to is the author's choice in config.ml, and the
  // manifest does not say, so Hearth cannot address a second network: it refuses the image.
  if (nets.length > 1)
    missing(
      `This unikernel needs ${nets.length} networks (${nets.map((n) => n.name).join(', ')}); Hearth can give an app one network with an address, so it cannot run this one.`,
    );
  if (nets.length > 0 && spec.ports.length === 0)
    missing(
      `This unikernel needs a network called ${nets[0]?.name ?? ''}, and Hearth connects one only for an app that publishes a port.`,
    );
  if (nets.length > 0 && !spec.hostId)
    missing('A networked Solo5 app needs the id of its device (for its network address).');
  const words: Word[] = [{ text: `solo5-${tender}` }, { text: `--mem=${spec.memoryMiB}` }];
  nets.forEach((d, i) => {
    words.push({ shell: `--net:${d.name}="$${tapVar(i)}"` });
    words.push({ text: `--net-mac:${d.name}=${solo5Mac(spec.hostId ?? '', spec.appId, d.name)}` });
  });
  const wired = new Set<string>();
  for (const d of blocks) {
    const name = volumeNameFor(d.name);
    const volume = spec.volumes.find((v) => v.name === name);
    if (!volume)
      missing(
        `This unikernel needs a storage device called ${d.name}, and the app has no volume called ${name}.`,
      );
    if (wired.has(name))
      missing(`This unikernel names two storage devices that would share the volume ${name}.`);
    wired.add(name);
    words.push({ text: `--block:${d.name}=${volume.path}` });
  }
  const unused = spec.volumes.filter((v) => !wired.has(v.name));
  if (unused.length)
    missing(
      `This unikernel has no storage device for the volume${unused.length > 1 ? 's' : ''} ${unused.map((v) => v.name).join(', ')}, so its data would never be used.`,
    );
  words.push({ text: '--' }, { text: spec.kernelPath });
  // MirageOS unikernels take their address as boot arguments; one the owner set wins.
  if (nets.length > 0 && !/(^|\s)--ipv4=/.test(spec.bootArgs))
    words.push({ shell: '--ipv4="$ipv4"' }, { shell: '--ipv4-gateway="$gateway"' });
  // The tender joins ARGS with spaces into the guest's command line; one word gives the same.
  if (spec.bootArgs) words.push({ text: spec.bootArgs });
  return words;
}

/** The argv with the agent's values in place (for tests and for showing the owner). */
export function solo5Argv(
  tender: Tender,
  spec: LaunchSpec,
  net: { taps: string[]; ipv4: string; gateway: string } = { taps: [], ipv4: '', gateway: '' },
): string[] {
  return solo5Words(tender, spec).map((w) =>
    'text' in w
      ? w.text
      : w.shell
          .replace(/"\$tap(\d)"/, (_, i: string) => net.taps[Number(i)] ?? '')
          .replace('"$ipv4"', net.ipv4)
          .replace('"$gateway"', net.gateway),
  );
}

/** Reads the agent's file into shell variables, refusing any value of the wrong shape. */
function networkPrologue(spec: LaunchSpec, nets: number): string {
  if (nets === 0) return '';
  const env = shellQuote(appNetEnvInShell(spec.appId));
  const taps = Array.from({ length: nets }, (_, i) => `${tapVar(i)}=`).join(' ');
  const cases = Array.from({ length: nets }, (_, i) => `    tap${i}) ${tapVar(i)}=$value ;;`).join(
    '\n',
  );
  const checks = Array.from(
    { length: nets },
    (_, i) =>
      `case "$${tapVar(i)}" in hth[0-9]*n${i}) ;; *) net_fail ;; esac\ncase "$${tapVar(i)}" in *[!a-z0-9]*) net_fail ;; esac`,
  ).join('\n');
  return `# The network the device's agent set up before this start (ExecStartPre, net-up).
net_fail() {
  echo "hearth: the network of ${spec.appId} is not ready (the device's agent did not set it up); it cannot start" >> "$log"
  exit 1
}
[ -f ${env} ] || net_fail
${taps} ipv4= gateway=
while read -r key value; do
  case "$key" in
${cases}
    ipv4) ipv4=$value ;;
    gateway) gateway=$value ;;
  esac
done < ${env}
${checks}
case "$ipv4" in ${solo5Network.subnet}.*/${solo5Network.prefix}) ;; *) net_fail ;; esac
case "$gateway" in ${solo5Network.gateway}) ;; *) net_fail ;; esac
case "$ipv4" in *[!0-9./]*) net_fail ;; esac
`;
}

const quoteWord = (w: Word): string => ('text' in w ? shellQuote(w.text) : w.shell);

/**
 * Content of <appDir>/run for a Solo5 tender. The tender writes the guest's console to its
 * stdout, which goes to the console log. No stop script: Solo5 guests have no shutdown request,
 * and systemd's SIGTERM ends the tender (and with it the guest) at once.
 */
export function solo5RunScript(tender: Tender, spec: LaunchSpec): string {
  const words = solo5Words(tender, spec);
  const nets = spec.solo5?.devices.filter((d) => d.type === 'NET_BASIC').length ?? 0;
  return `${consoleLogPrologue(spec, `Starts solo5-${tender}`)}
${networkPrologue(spec, nets)}exec >> "$log" 2>&1
# exec: the tender becomes the service's main process, so systemd sees its exit status directly.
exec ${words.map(quoteWord).join(' ')}
`;
}

/**
 * Content of <appDir>/qmp for a tender app: the same commands and answers as QEMU's helper
 * (qemu-launcher.ts qmpScript), so backups pause the app for their copy the same way. A tender
 * has no monitor: SIGSTOP freezes every thread of it, guest and block I/O included (its block
 * writes are synchronous calls of the tender process), and SIGCONT resumes it.
 */
export function solo5ControlScript(tender: Tender, spec: LaunchSpec): string {
  validateLaunchSpec(spec);
  const unit = shellQuote(appUnit(spec.appId));
  return `#!/bin/sh
# Pauses and resumes solo5-${tender} for Hearth app ${spec.appId} (qmp stop|cont|query-status).
# Generated by Hearth; it is rewritten on every deploy, so do not edit it here.
set -eu
pid=$(systemctl show -p MainPID --value ${unit} 2>/dev/null || echo 0)
case "$pid" in ''|*[!0-9]*) pid=0 ;; esac
if [ "$pid" -eq 0 ] || [ ! -r "/proc/$pid/stat" ]; then
  echo '{"error": {"class": "NotRunning", "desc": "the app is not running"}}'
  exit 1
fi
case "\${1:-}" in
  stop) kill -STOP "$pid" ;;
  cont) kill -CONT "$pid" ;;
  query-status)
    # The state is the field after the command name, which is in parentheses.
    state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
    if [ "$state" = T ]; then
      echo '{"return": {"running": false, "status": "paused"}}'
    else
      echo '{"return": {"running": true, "status": "running"}}'
    fi
    exit 0 ;;
  system_powerdown|quit) kill -TERM "$pid" ;;
  *) echo "usage: $0 stop|cont|query-status|system_powerdown|quit" >&2; exit 2 ;;
esac
echo '{"return": {}}'
`;
}
