// The units that let an app sleep when idle: the sleep file the laptop writes, and what the
// real agent makes of it on a device (run under sh as root, with a systemctl on its PATH that
// only records its argv, and its unit folder moved into a scratch directory).
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand } from './agent-protocol';
import { agentScript } from './agent-script';
import { deviceLayout, sleepSocketUnit, wakeInternalPort } from './layout';
import { SleepRefused, sleepFile } from './sleep-units';

const web = { protocol: 'tcp' as const, host: 8080, guest: 80, path: '/' };
const admin = { protocol: 'tcp' as const, host: 9000, guest: 9000 };

describe('the sleep file the laptop writes', () => {
  it('names the idle time and, per published port, where the sleeping app listens instead', () => {
    expect(sleepFile('Visit counter', [web], 600)).toBe(
      `idle 600\nwake tcp 8080 ${wakeInternalPort(8080)} http\n`,
    );
    expect(sleepFile('Notes', [web, admin], 30)).toBe(
      `idle 30\nwake tcp 8080 ${wakeInternalPort(8080)} http\nwake tcp 9000 ${wakeInternalPort(9000)} tcp\n`,
    );
  });

  it("names, for a Solo5 tender's app, the unikernel's own ports (it answers at its own address)", () => {
    expect(sleepFile('Notes', [web, admin], 45, 'tender')).toBe(
      'idle 45\nwake tcp 8080 80 http tender\nwake tcp 9000 9000 tcp tender\n',
    );
  });

  it('refuses an app nothing could wake, in a sentence the owner reads', () => {
    expect(() => sleepFile('Resolver', [], 600)).toThrow(SleepRefused);
    expect(() => sleepFile('Resolver', [], 600)).toThrow(
      'Resolver publishes no port, so no visit could wake it; it keeps running instead.',
    );
    expect(() => sleepFile('Resolver', [{ protocol: 'udp', host: 53, guest: 53 }], 600)).toThrow(
      /UDP/,
    );
    expect(() => sleepFile('Notes', [web], 0)).toThrow(/idle time/);
    expect(() => sleepFile('Notes', [web], 86_401)).toThrow(/idle time/);
  });

  it('moves every published port somewhere else, and two ports never to the same place', () => {
    const seen = new Set<number>();
    for (let port = 1; port <= 65535; port += 1) {
      const internal = wakeInternalPort(port);
      expect(internal >= 1 && internal <= 65535 && internal !== port).toBe(true);
      seen.add(internal);
    }
    expect(seen.size).toBe(65535);
    expect(sleepSocketUnit('visits', 8080)).toBe('hearth-sleep-visits.8080.socket');
    expect(agentCommand('sleep-on', 'visits')).toBe(
      'sudo -n /usr/local/lib/hearth/agent sleep-on visits',
    );
  });
});

const root = process.getuid?.() === 0;
const hasTools = spawnSync('sh', ['-c', 'command -v perl && command -v runuser']).status === 0;

describe.skipIf(!root || !hasTools)(
  'sleep-on and sleep-off on a device (needs root and runuser: skipped otherwise)',
  () => {
    let dir = '';
    let appsDir = '';
    let unitDir = '';
    let agent = '';
    const calls = () => join(dir, 'calls');

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hearth-agent-sleep-'));
      const bin = join(dir, 'bin');
      appsDir = join(dir, 'apps');
      unitDir = join(dir, 'units');
      mkdirSync(bin);
      mkdirSync(unitDir);
      for (const app of ['visits', 'notes', 'resolver'])
        mkdirSync(join(appsDir, app), { recursive: true });
      for (const d of [
        dir,
        appsDir,
        ...['visits', 'notes', 'resolver'].map((a) => join(appsDir, a)),
      ])
        chmodSync(d, 0o755);
      writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${calls()}\n`, {
        mode: 0o755,
      });
      writeFileSync(join(bin, 'proxyd'), '#!/bin/sh\n', { mode: 0o755 });
      agent = join(dir, 'agent');
      writeFileSync(
        agent,
        agentScript({
          appsDir,
          unitDir,
          user: 'nobody',
          path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
          netDir: join(dir, 'net'),
          socketProxyd: join(bin, 'proxyd'),
        }),
        { mode: 0o755 },
      );
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const runAgent = (args: string[]) => {
      const r = spawnSync(agent, args, { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      return { code: r.status, stderr: r.stderr };
    };
    const sleep = (app: string, content: string) =>
      writeFileSync(join(appsDir, app, 'sleep'), content, { mode: 0o644 });
    const recorded = () => (existsSync(calls()) ? readFileSync(calls(), 'utf8') : '');
    const unit = (name: string) => readFileSync(join(unitDir, name), 'utf8');

    it('gives an app with one port a socket on it and a proxy that wakes the app', () => {
      sleep('visits', sleepFile('Visit counter', [web], 600));
      expect(runAgent(['sleep-on', 'visits'])).toEqual({ code: 0, stderr: '' });
      expect(readdirSync(unitDir).sort()).toEqual([
        'hearth-app@visits.service.d',
        'hearth-sleep-visits.8080.service',
        'hearth-sleep-visits.8080.socket',
      ]);
      const socket = unit('hearth-sleep-visits.8080.socket');
      expect(socket).toContain('\n[Socket]\nListenStream=8080\n');
      expect(socket).toContain('\nWantedBy=sockets.target\n');
      const proxy = unit('hearth-sleep-visits.8080.service');
      expect(proxy).toContain(
        '\nBindsTo=hearth-app@visits.service\nAfter=hearth-app@visits.service\n',
      );
      expect(proxy).toContain('\nExecStartPre=+/usr/local/lib/hearth/agent wake-wait visits\n');
      expect(proxy).toContain(
        `\nExecStart=/lib/systemd/systemd-socket-proxyd --exit-idle-time=600s 127.0.0.1:${wakeInternalPort(8080)}\n`,
      );
      expect(proxy).toContain('\nUser=hearth\n');
      expect(proxy).not.toContain('ReadWritePaths');
      expect(unit('hearth-app@visits.service.d/sleep.conf')).toContain('\nStopWhenUnneeded=yes\n');
      // The app stops (gracefully) and no longer starts at boot; the socket takes its port.
      const lines = recorded().split('\n');
      expect(lines.indexOf('stop hearth-app@visits.service')).toBeGreaterThan(
        lines.indexOf('disable hearth-app@visits.service'),
      );
      expect(lines.at(-2)).toBe('enable --now hearth-sleep-visits.8080.socket');
    });

    it("forgets a sleeping app's starts after a clean stop, never after a crash or a failed stop", () => {
      sleep('visits', sleepFile('Visit counter', [web], 600));
      expect(runAgent(['sleep-on', 'visits']).code).toBe(0);
      const line = /^ExecStopPost=(.*)$/m.exec(unit('hearth-app@visits.service.d/sleep.conf'))?.[1];
      // What systemd runs: "+" is root, "$$" one "$", %i the instance; the agent is this one.
      const script = /^\+\/bin\/sh -c '(.*)'$/.exec(line ?? '')?.[1];
      expect(script, line).toBeDefined();
      const run = script!
        .replaceAll('$$', '$')
        .replaceAll('%i', 'visits')
        .replaceAll(deviceLayout.agent, agent);
      // systemd.exec(5)'s table: a clean stop, and the ways an app ends that are not one.
      const stops = [
        ['success', 'exited', '0'],
        ['success', 'killed', 'TERM'],
        ['exit-code', 'exited', '1'],
        ['signal', 'killed', 'SEGV'],
        ['core-dump', 'dumped', 'ABRT'],
        ['timeout', 'killed', 'KILL'],
        ['oom-kill', 'killed', 'KILL'],
      ];
      const reset = stops.map(([result, code, status]) => {
        writeFileSync(calls(), '');
        const r = spawnSync('/bin/sh', ['-c', run], {
          env: {
            PATH: '/usr/bin:/bin',
            SERVICE_RESULT: result,
            EXIT_CODE: code,
            EXIT_STATUS: status,
          },
          encoding: 'utf8',
        });
        expect(r.status, r.stderr).toBe(0);
        return recorded();
      });
      expect(reset).toEqual([
        'reset-failed hearth-app@visits.service\n',
        'reset-failed hearth-app@visits.service\n',
        '',
        '',
        '',
        '',
        '',
      ]);
    });

    it('gives an app with two ports one socket and one proxy each, at its own idle time', () => {
      sleep('notes', sleepFile('Notes', [web, admin], 45));
      expect(runAgent(['sleep-on', 'notes']).code).toBe(0);
      expect(unit('hearth-sleep-notes.9000.socket')).toContain('ListenStream=9000\n');
      expect(unit('hearth-sleep-notes.9000.service')).toContain(
        `--exit-idle-time=45s 127.0.0.1:${wakeInternalPort(9000)}\n`,
      );
      expect(recorded()).toContain(
        'enable --now hearth-sleep-notes.8080.socket hearth-sleep-notes.9000.socket\n',
      );
      // Off again: every unit of the app goes, and no other app's.
      sleep('visits', sleepFile('Visit counter', [web], 600));
      expect(runAgent(['sleep-on', 'visits']).code).toBe(0);
      expect(runAgent(['sleep-off', 'notes']).code).toBe(0);
      expect(readdirSync(unitDir).filter((f) => f.includes('notes'))).toEqual([
        'hearth-app@notes.service.d',
      ]);
      expect(readdirSync(join(unitDir, 'hearth-app@notes.service.d'))).toEqual([]);
      expect(existsSync(join(unitDir, 'hearth-sleep-visits.8080.socket'))).toBe(true);
      expect(recorded()).toContain('disable --now hearth-sleep-notes.9000.socket\n');
    });

    it("sends a tender app's visits to the unikernel at its own address on the bridge", () => {
      // Another app holds the first address; this one's is kept from its last start.
      mkdirSync(join(dir, 'net'));
      writeFileSync(join(dir, 'net', 'visits.slot'), '2\n');
      sleep('notes', sleepFile('Notes', [web, admin], 45, 'tender'));
      expect(runAgent(['sleep-on', 'notes'])).toEqual({ code: 0, stderr: '' });
      expect(readFileSync(join(dir, 'net', 'notes.slot'), 'utf8')).toBe('3\n');
      expect(unit('hearth-sleep-notes.8080.socket')).toContain('\nListenStream=8080\n');
      expect(unit('hearth-sleep-notes.8080.service')).toContain(
        '\nExecStart=/lib/systemd/systemd-socket-proxyd --exit-idle-time=45s 10.213.0.3:80\n',
      );
      expect(unit('hearth-sleep-notes.9000.service')).toContain(' 10.213.0.3:9000\n');
      expect(recorded()).toContain(
        'enable --now hearth-sleep-notes.8080.socket hearth-sleep-notes.9000.socket\n',
      );
      // Its address stays across sleep-on again; a word other than "tender" is not obeyed.
      sleep('notes', 'idle 45\nwake tcp 8080 80 http tender\nwake tcp 8081 80 http 8.8.8.8\n');
      expect(runAgent(['sleep-on', 'notes']).code).toBe(0);
      expect(unit('hearth-sleep-notes.8080.service')).toContain(' 10.213.0.3:80\n');
      expect(existsSync(join(unitDir, 'hearth-sleep-notes.8081.service'))).toBe(false);
    });

    it("lets the woken proxy's wait end once the app answers HTTP where the proxy forwards", async () => {
      const server = createServer((_q, r) => r.end('ok')).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const port = (server.address() as AddressInfo).port;
      try {
        sleep('visits', `idle 60\nwake tcp 8080 ${port} http\n`);
        const code = await new Promise<number | null>((resolve) => {
          const child = spawn(agent, ['wake-wait', 'visits'], { env: { PATH: '/usr/bin:/bin' } });
          child.once('exit', resolve);
        });
        expect(code).toBe(0);
      } finally {
        server.close();
      }
    });

    it('wakes a sleeping app when asked to start it, and never starts it at boot', () => {
      sleep('notes', sleepFile('Notes', [web, admin], 45));
      expect(runAgent(['sleep-on', 'notes']).code).toBe(0);
      writeFileSync(calls(), '');
      for (const verb of ['enable', 'start', 'stop'])
        expect(runAgent([verb, 'notes']).code).toBe(0);
      // `is-active` is recorded as succeeding here, so a restart restarts the awake app.
      expect(runAgent(['restart', 'notes']).code).toBe(0);
      expect(recorded()).toBe(
        [
          'start hearth-sleep-notes.8080.service hearth-sleep-notes.9000.service',
          'stop hearth-app@notes.service',
          'is-active --quiet hearth-app@notes.service',
          'restart hearth-app@notes.service',
          '',
        ].join('\n'),
      );
      // An app that does not sleep is started as always.
      expect(runAgent(['start', 'visits']).code).toBe(0);
      expect(recorded()).toContain('start hearth-app@visits.service\n');
    });

    it('refuses an app without a TCP port with a clear sentence, and ignores hostile lines', () => {
      sleep('resolver', 'idle 600\nwake udp 53 32821 tcp\n');
      const r = runAgent(['sleep-on', 'resolver']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'hearth agent: resolver publishes no TCP port, so no visit could wake it; it keeps running instead\n',
      );
      sleep(
        'notes',
        'idle 99999999\nidle 1;reboot\nwake tcp 8080 8080 http\nwake tcp 80$(id) 9 tcp\nwake tcp 0 9 tcp\nwake tcp 70000 9 tcp\nwake tcp 8081 9 ssh\nwake tcp 8082 40850 tcp\n',
      );
      expect(runAgent(['sleep-on', 'notes']).code).toBe(0);
      expect(readdirSync(unitDir).filter((f) => f.startsWith('hearth-sleep-'))).toEqual([
        'hearth-sleep-notes.8082.service',
        'hearth-sleep-notes.8082.socket',
      ]);
      expect(unit('hearth-sleep-notes.8082.service')).toContain('--exit-idle-time=600s ');
      expect(recorded()).not.toContain('reboot');
    });
  },
);
