// A private avahi-daemon on the lab's laptop side, as a real laptop has: the bench's baseline
// (`avahi-browse -rtp` for the same service in the same run), and what resolves a device's
// .local name for Hearth and the browser (nss-mdns asks /run/avahi-daemon/socket). The host
// has no system D-Bus, so avahi gets its own bus on a socket in a temporary folder.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LaptopAvahi {
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const busConfig = (
  socket: string,
) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

const avahiConfig = `[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
disable-publishing=yes
[rlimits]
`;

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('avahi on the laptop side did not start');
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Starts a cold avahi-daemon (empty cache) in the laptop namespace. */
export async function startLaptopAvahi(
  onLaptop: (argv: string[]) => string[],
): Promise<LaptopAvahi> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-laptop-avahi-'));
  const socket = join(dir, 'bus');
  writeFileSync(join(dir, 'bus.conf'), busConfig(socket));
  writeFileSync(join(dir, 'avahi.conf'), avahiConfig);
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
  const bus = spawn(
    'dbus-daemon',
    ['--nofork', '--nopidfile', `--config-file=${join(dir, 'bus.conf')}`],
    { stdio: 'ignore' },
  );
  await waitFor(async () => (await run(['test', '-S', socket], env)) === 0, 5_000);
  const argv = onLaptop([
    'avahi-daemon',
    '--no-chroot',
    '--no-drop-root',
    '--no-rlimits',
    '-f',
    join(dir, 'avahi.conf'),
  ]);
  const avahi = spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
  await waitFor(async () => (await run(['avahi-daemon', '--check'], env)) === 0, 10_000);
  return {
    env,
    stop: async () => {
      await stopChild(avahi);
      await stopChild(bus);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Milliseconds from starting `avahi-browse -rtp TYPE` until it printed a resolved entry for `host`. */
export function avahiBrowseFirst(
  onLaptop: (argv: string[]) => string[],
  env: NodeJS.ProcessEnv,
  type: string,
  host: string,
  timeoutMs = 20_000,
): Promise<number | null> {
  const argv = onLaptop(['avahi-browse', '-rp', type]);
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve) => {
    let buffered = '';
    const done = (ms: number | null) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      resolve(ms);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        // "=" lines are resolved services: ;iface;proto;name;type;domain;host;address;port;txt
        if (line.startsWith('=') && line.includes(`;${host}.local;`))
          return done(performance.now() - started);
      }
    });
  });
}
