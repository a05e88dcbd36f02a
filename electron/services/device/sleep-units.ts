// An app that sleeps when idle (issue 14): systemd holds its published ports open while it is
// stopped, and the first connection starts it. Per published port a socket unit, and the
// systemd-socket-proxyd service it activates, which wakes the app (BindsTo), waits until the app
// answers on its internal loopback port, hands the visit over and exits after the idle time;
// the app's unit then has no one needing it and stops (StopWhenUnneeded, the same graceful stop
// as always). Nothing of the laptop takes part.
//
// Where the proxy hands a visit over depends on the runtime. QEMU's user networking forwards the
// app's port from the device itself, so a sleeping QEMU app listens on an internal loopback port
// instead of its published one. A Solo5 tender's unikernel has an address of its own on the
// Hearth bridge (the agent's net-up: a tap on hearth0), which the proxy reaches directly, so it
// forwards to that address and the guest's port; the nftables forwards net-up would otherwise
// add are left out for a sleeping tender app (they would take the visits past the socket and
// the proxy, which would then see no visitor and let the app sleep under them).
//
// One socket and one proxy per port rather than one socket for all: systemd-socket-proxyd
// forwards every socket it is given to a single address, so two ports need two proxies; and the
// app stops only when the last of them has gone idle, which StopWhenUnneeded gives for free.
//
// The root agent writes these units (sleep-on), from an app's `sleep` file it checks line by
// line, so the texts below are written around shell expressions (`$app`, `$host`, ...) that the
// agent's heredoc fills with the validated values; tests fill them with values directly.
import {
  appUnitInShell,
  deviceLayout,
  HEARTH_USER,
  socketProxyd,
  wakeInternalPort,
} from './layout';
import { unitSandbox } from './unit-sandbox';

/** The idle time before a woken app sleeps again, when the owner chose none. */
export const DEFAULT_IDLE_MINUTES = 10;
/** The longest idle time the agent accepts (a day); anything longer is "always on". */
export const MAX_IDLE_SECONDS = 86_400;

/** Why an app cannot sleep, in the owner's words. */
export class SleepRefused extends Error {}

export interface SleepPort {
  protocol: 'tcp' | 'udp';
  host: number;
  /** The port inside the app (where a tender's unikernel answers on its own address). */
  guest: number;
  /** An HTTP port (the catalog gave it a path): readiness is an answer to a HEAD of it. */
  path?: string | undefined;
}

/** Where a woken app answers: QEMU on a loopback port, a tender's unikernel at its own address. */
export type WakeAt = 'loopback' | 'tender';

/**
 * The app's `sleep` file: `idle SECONDS`, then per published port `wake tcp HOST INTERNAL
 * http|tcp` (QEMU: it listens on 127.0.0.1:INTERNAL) or `wake tcp HOST GUEST http|tcp tender`
 * (a tender's unikernel, at its address on the Hearth bridge). An app without a TCP port, or
 * with a UDP one (no proxy can wake on a datagram and hand it over), cannot sleep.
 */
export function sleepFile(
  name: string,
  ports: readonly SleepPort[],
  idleSeconds: number,
  at: WakeAt = 'loopback',
): string {
  if (!Number.isInteger(idleSeconds) || idleSeconds < 1 || idleSeconds > MAX_IDLE_SECONDS)
    throw new SleepRefused(`The idle time must be between 1 second and a day.`);
  if (ports.length === 0)
    throw new SleepRefused(
      `${name} publishes no port, so no visit could wake it; it keeps running instead.`,
    );
  if (ports.some((p) => p.protocol !== 'tcp'))
    throw new SleepRefused(
      `${name} answers on a UDP port, which cannot wake a sleeping app; it keeps running instead.`,
    );
  const wakes = ports.map((p) =>
    at === 'tender'
      ? `wake tcp ${p.host} ${p.guest} ${p.path ? 'http' : 'tcp'} tender\n`
      : `wake tcp ${p.host} ${wakeInternalPort(p.host)} ${p.path ? 'http' : 'tcp'}\n`,
  );
  return `idle ${idleSeconds}\n${wakes.join('')}`;
}

/** The socket unit that holds one published port while the app sleeps. */
export function sleepSocketUnitText(app: string, host: string): string {
  return `# Managed by Hearth: holds port ${host} open for ${app} while it sleeps.
[Unit]
Description=Hearth app ${app}, asleep on port ${host}

[Socket]
ListenStream=${host}

[Install]
WantedBy=sockets.target
`;
}

/**
 * The proxy a visit starts: the app with it (BindsTo: it also ends with the app, crash or stop),
 * the visit handed over to `target` (ADDRESS:PORT) once the app answers, and an exit after
 * `idle` seconds without one.
 */
export function sleepProxyUnitText(
  app: string,
  host: string,
  target: string,
  idle: string,
): string {
  const unit = appUnitInShell(app);
  return `# Managed by Hearth: wakes ${app} on a visit to port ${host} and hands the visit over.
[Unit]
Description=Hearth app ${app}, woken on port ${host}
BindsTo=${unit}
After=${unit}

[Service]
User=${HEARTH_USER}
# Root (+) only to read the app's files as the hearth account and probe where it answers.
ExecStartPre=+${deviceLayout.agent} wake-wait ${app}
ExecStart=${socketProxyd} --exit-idle-time=${idle}s ${target}
# The wait above may take a slow (emulated) boot; a visitor's connection waits in the backlog.
TimeoutStartSec=300
${unitSandbox(null)}
`;
}

/**
 * The app unit's drop-in while it sleeps: it stops once no proxy needs it, and a clean stop
 * forgets its starts. systemd's start limit (StartLimitBurst in the unit template) counts every
 * start, so without that the sixth wake within its interval would be refused and the visitor's
 * connection reset. Only a stop systemd calls a success (SERVICE_RESULT, systemd.exec(5): the
 * app exited 0 or ended by the stop's own signal) resets the count, with the agent's
 * `reset-failed`; a crash while waking or running, a stop that timed out, or a start that failed
 * leaves it counted, so a crash-looping app is still given up on. (`$$`: systemd passes one `$`
 * to the shell; the backslashes keep the agent's heredoc from expanding it first.)
 */
export function sleepAppDropInText(): string {
  return `# Managed by Hearth: this app sleeps when idle; it stops once no visit keeps it awake.
[Unit]
StopWhenUnneeded=yes

[Service]
ExecStopPost=+/bin/sh -c '[ "\\$\\$SERVICE_RESULT" = success ] || exit 0; exec ${deviceLayout.agent} reset-failed %i'
`;
}
