// The agent's net-up and net-down verbs (a Solo5 tender app's taps and forwarded ports), run
// for real under sh as root with `ip`, `nft` and `sysctl` on its PATH that only record what
// they were asked, and its folders moved into a scratch directory.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand, agentNetworkFile } from './agent-protocol';
import { agentScript } from './agent-script';

describe('the network file the agent reads', () => {
  it('names the networks and each forward, and nothing else', () => {
    expect(
      agentNetworkFile(2, [
        { protocol: 'tcp', host: 8080, guest: 80 },
        { protocol: 'udp', host: 53, guest: 53 },
      ]),
    ).toBe('nets 2\nforward tcp 8080 80\nforward udp 53 53\n');
    expect(() => agentNetworkFile(0, [])).toThrow(/networks/);
    expect(() => agentNetworkFile(5, [])).toThrow(/networks/);
    expect(agentCommand('net-up', 'resolver')).toBe(
      'sudo -n /usr/local/lib/hearth/agent net-up resolver',
    );
  });
});

const root = process.getuid?.() === 0;
const hasTools =
  spawnSync('sh', ['-c', 'command -v perl && command -v setpriv && command -v flock']).status === 0;
// Recorded, then run for real: an app with no network must not cost an account switch.
const realSetpriv = spawnSync(
  'sh',
  ['-c', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v setpriv'],
  {
    encoding: 'utf8',
  },
).stdout.trim();

describe.skipIf(!root || !hasTools)(
  'net-up and net-down on a device (needs root, setpriv and flock: skipped otherwise)',
  () => {
    let dir = '';
    let appsDir = '';
    let netDir = '';
    let agent = '';
    const calls = () => join(dir, 'calls');

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hearth-agent-net-'));
      const bin = join(dir, 'bin');
      appsDir = join(dir, 'apps');
      netDir = join(dir, 'net');
      mkdirSync(bin);
      for (const app of ['resolver', 'web', 'counter'])
        mkdirSync(join(appsDir, app), { recursive: true });
      for (const d of [
        dir,
        appsDir,
        ...['resolver', 'web', 'counter'].map((a) => join(appsDir, a)),
      ])
        chmodSync(d, 0o755);
      // `ip link show hearth0` fails until `ip link add hearth0` was asked: the bridge is made once.
      const record = (name: string, body = '') =>
        writeFileSync(
          join(bin, name),
          `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> ${calls()}\n${body}exit 0\n`,
          { mode: 0o755 },
        );
      record(
        'ip',
        `case "$*" in "link show hearth0") [ -f ${dir}/bridge ] || exit 1 ;; "link add hearth0 type bridge") touch ${dir}/bridge ;; esac\n`,
      );
      record('nft', `[ "$1" = -f ] && cat >> ${dir}/rules\n`);
      // Forwarding reads as off unless a test says otherwise; a read-only one refuses writes.
      record(
        'sysctl',
        `case "$1" in -n) cat ${dir}/forwarding 2>/dev/null ;; -qw) [ ! -f ${dir}/readonly ] || exit 1 ;; esac\n`,
      );
      record('setpriv', `exec ${realSetpriv} "$@"\n`);
      // Never used any more at a start (its PAM session cost more than the read).
      record('runuser');
      agent = join(dir, 'agent');
      writeFileSync(
        agent,
        agentScript({
          appsDir,
          netDir,
          user: 'nobody',
          path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
        }),
        { mode: 0o755 },
      );
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const runAgent = (args: string[]) => {
      const r = spawnSync(agent, args, { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      return { code: r.status, stderr: r.stderr };
    };
    const network = (app: string, content: string) =>
      writeFileSync(join(appsDir, app, 'network'), content, { mode: 0o644 });
    const recorded = () => (existsSync(calls()) ? readFileSync(calls(), 'utf8') : '');
    const env = (app: string) => readFileSync(join(netDir, `${app}.env`), 'utf8');

    it('makes one tap per network on the Hearth bridge, owned by the app account', () => {
      network('resolver', agentNetworkFile(2, [{ protocol: 'udp', host: 53, guest: 53 }]));
      expect(runAgent(['net-up', 'resolver'])).toEqual({ code: 0, stderr: '' });
      const ip = recorded()
        .split('\n')
        .filter((l) => l.startsWith('ip ') && !l.includes(' del '));
      expect(ip).toEqual([
        'ip link show hearth0',
        'ip link add hearth0 type bridge',
        'ip addr add 10.213.0.1/24 dev hearth0',
        'ip link set hearth0 up',
        'ip tuntap add dev hth2n0 mode tap user nobody',
        'ip link set hth2n0 master hearth0 up',
        'ip tuntap add dev hth2n1 mode tap user nobody',
        'ip link set hth2n1 master hearth0 up',
      ]);
      // What the run script reads: the taps, the app's address and the gateway.
      expect(env('resolver')).toBe(
        'tap0 hth2n0\ntap1 hth2n1\nipv4 10.213.0.2/24\ngateway 10.213.0.1\n',
      );
    });

    it("forwards the app's published ports from the device's own addresses, in its own table", () => {
      network(
        'web',
        agentNetworkFile(1, [
          { protocol: 'tcp', host: 8080, guest: 80 },
          { protocol: 'udp', host: 5353, guest: 53 },
        ]),
      );
      expect(runAgent(['net-up', 'web']).code).toBe(0);
      const rules = readFileSync(join(dir, 'rules'), 'utf8');
      expect(rules).toContain('table ip hearth_2 {');
      expect(
        rules.match(/fib daddr type local tcp dport 8080 dnat to 10\.213\.0\.2:80/g),
      ).toHaveLength(2);
      expect(rules).toContain('fib daddr type local udp dport 5353 dnat to 10.213.0.2:53');
      expect(rules).toContain('ip saddr 10.213.0.2 oifname != "hearth0" masquerade');
      expect(recorded()).toContain('sysctl -qw net.ipv4.ip_forward=1');
    });

    it('leaves IP forwarding alone when it is on, and says why not when it cannot turn it on', () => {
      network('web', agentNetworkFile(1, [{ protocol: 'tcp', host: 8080, guest: 80 }]));
      writeFileSync(join(dir, 'forwarding'), '1\n');
      expect(runAgent(['net-up', 'web'])).toEqual({ code: 0, stderr: '' });
      expect(recorded()).not.toContain('sysctl -qw');
      writeFileSync(join(dir, 'forwarding'), '0\n');
      writeFileSync(join(dir, 'readonly'), '');
      expect(runAgent(['net-up', 'web'])).toEqual({
        code: 2,
        stderr:
          "hearth agent: this device does not let Hearth turn on IP forwarding, so web's ports cannot be reached\n",
      });
    });

    it('keeps an app its address across restarts and gives the next app the next one', () => {
      network('resolver', agentNetworkFile(1, []));
      network('web', agentNetworkFile(1, []));
      expect(runAgent(['net-up', 'resolver']).code).toBe(0);
      expect(runAgent(['net-up', 'web']).code).toBe(0);
      expect(runAgent(['net-down', 'resolver']).code).toBe(0);
      expect(existsSync(join(netDir, 'resolver.env'))).toBe(false);
      expect(recorded()).toContain('ip link del hth2n0');
      expect(runAgent(['net-up', 'resolver']).code).toBe(0);
      expect(env('resolver')).toContain('ipv4 10.213.0.2/24');
      expect(env('web')).toContain('ipv4 10.213.0.3/24');
      // An app removed from the device frees its address for the next one.
      rmSync(join(appsDir, 'resolver'), { recursive: true });
      network('counter', agentNetworkFile(1, []));
      expect(runAgent(['net-up', 'counter']).code).toBe(0);
      expect(env('counter')).toContain('ipv4 10.213.0.2/24');
    });

    it('does nothing for an app without a network file (QEMU and Xen apps), not even switch accounts', () => {
      expect(runAgent(['net-up', 'counter'])).toEqual({ code: 0, stderr: '' });
      expect(runAgent(['net-down', 'counter'])).toEqual({ code: 0, stderr: '' });
      // What installs write for them: an empty file (it replaces a tender version's).
      network('counter', '');
      expect(runAgent(['net-up', 'counter'])).toEqual({ code: 0, stderr: '' });
      expect(recorded()).toBe('');
    });

    it('reads a network file as the app account (without a PAM session), a link not at all', () => {
      network('web', agentNetworkFile(1, []));
      expect(runAgent(['net-up', 'web']).code).toBe(0);
      expect(recorded()).toMatch(/^setpriv --reuid=nobody --regid=\d+ --init-groups -- perl /m);
      expect(recorded()).not.toContain('runuser');
      // Empty or not, a link is read carefully, and refused: no network.
      const target = join(dir, 'empty');
      writeFileSync(target, '');
      symlinkSync(target, join(appsDir, 'counter', 'network'));
      expect(runAgent(['net-up', 'counter']).code).toBe(0);
      expect(recorded()).toMatch(/setpriv .* perl .*\/counter\/network$/m);
      expect(existsSync(join(netDir, 'counter.env'))).toBe(false);
    });

    it('ignores every line of a hostile network file that is out of shape', () => {
      network(
        'web',
        [
          'nets 9',
          'nets 1',
          'forward tcp 8080 80;reboot',
          'forward icmp 1 1',
          'forward tcp 99999 80',
          'forward tcp 0 80',
          'forward tcp $(id) 80',
          'forward tcp 8081 81',
          '',
        ].join('\n'),
      );
      expect(runAgent(['net-up', 'web']).code).toBe(0);
      const rules = readFileSync(join(dir, 'rules'), 'utf8');
      expect(rules.match(/dnat to/g)).toHaveLength(2); // prerouting and output, one forward
      expect(rules).toContain('tcp dport 8081 dnat to 10.213.0.2:81');
      expect(recorded()).not.toContain('hth2n1');
      expect(runAgent(['net-up', 'x;id']).code).toBe(2);
      expect(runAgent(['net-up', 'web', 'extra']).code).toBe(2);
    });
  },
);
