// The agent runs as root on the device with arguments the hearth account chose: these tests run
// the real generated script under sh against hostile input, with a systemctl on its PATH that
// only records its argv, and its folders moved into a scratch directory.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { advertiseFile } from '../provisioning/device-files';
import {
  agentBackupCommand,
  agentCommand,
  agentPeerCommand,
  agentPeerDumpCommand,
  agentPeerSnapshotsCommand,
  agentUnitVerbs,
  agentVerbs,
  backupCalendar,
  isBackupInterval,
} from './agent-protocol';
import { agentScript } from './agent-script';

describe('the agent script', () => {
  it('is the same bytes every time, names every verb, and is valid sh', () => {
    const script = agentScript();
    expect(script).toBe(agentScript());
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(`  ${agentVerbs.join('|')}) [ $# -eq 2 ]`);
    expect(script).toContain('exec systemctl "$verb" "hearth-app@$app.service"');
    expect(script).toContain('PATH=/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect(script).toContain('[ $# -eq 2 ]');
    expect(script).toContain(
      'setpriv --reuid=hearth --regid="$(id -g hearth)" --init-groups -- perl',
    );
    expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
  });

  it('is what the laptop asks for, one validated word each', () => {
    expect(agentCommand('reset-failed', 'visits-2')).toBe(
      'sudo -n /usr/local/lib/hearth/agent reset-failed visits-2',
    );
    expect(() => agentCommand('start', 'x ssh.service')).toThrow(/not an app id/);
    expect(() => agentCommand('daemon-reload' as never, 'x')).toThrow(/not an agent verb/);
  });
});

const root = process.getuid?.() === 0;
const hasPerlAndSetpriv =
  spawnSync('sh', ['-c', 'command -v perl && command -v setpriv']).status === 0;

describe.skipIf(!root || !hasPerlAndSetpriv)(
  // setpriv (to read as another account) needs root; CI runs the unit tests as root.
  'the real agent against hostile input (needs root and setpriv: skipped otherwise)',
  () => {
    let dir = '';
    let calls = '';
    let appsDir = '';
    let servicesDir = '';
    let agent = '';

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hearth-agent-'));
      const bin = join(dir, 'bin');
      appsDir = join(dir, 'apps');
      servicesDir = join(dir, 'services');
      calls = join(dir, 'systemctl-calls');
      mkdirSync(bin);
      mkdirSync(join(appsDir, 'notes'), { recursive: true });
      mkdirSync(servicesDir);
      // The account the agent reads as ("nobody" here) must reach the app folder.
      for (const d of [dir, appsDir, join(appsDir, 'notes')]) chmodSync(d, 0o755);
      writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\nprintf '%s\\n' "$#:$*" >> ${calls}\n`, {
        mode: 0o755,
      });
      agent = join(dir, 'agent');
      writeFileSync(
        agent,
        agentScript({
          appsDir,
          servicesDir,
          user: 'nobody',
          path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
        }),
        { mode: 0o755 },
      );
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function runAgent(args: string[], env: Record<string, string> = { PATH: '/usr/bin:/bin' }) {
      const r = spawnSync(agent, args, { env, encoding: 'utf8', timeout: 10_000 });
      return { code: r.status, stderr: r.stderr, timedOut: r.error !== undefined };
    }
    const systemctlCalls = () => (existsSync(calls) ? readFileSync(calls, 'utf8') : '');

    it('runs systemctl on the app unit for each of its verbs, and nothing more', () => {
      for (const verb of agentUnitVerbs) expect(runAgent([verb, 'counter']).code).toBe(0);
      expect(systemctlCalls()).toBe(
        agentUnitVerbs.map((verb) => `2:${verb} hearth-app@counter.service\n`).join(''),
      );
      expect(runAgent(['start', 'a'.repeat(32)]).code).toBe(0);
      expect(runAgent(['stop', 'visits-2']).code).toBe(0);
    });

    it('refuses verbs it does not know', () => {
      for (const verb of [
        'daemon-reload',
        'is-active',
        'show',
        'edit',
        'START',
        '',
        '--help',
        'start;id',
        'start ',
        'mask',
      ]) {
        const r = runAgent([verb, 'counter']);
        expect([verb, r.code]).toEqual([verb, 2]);
        expect(r.stderr).toContain('hearth agent: not a verb Hearth knows');
      }
      expect(systemctlCalls()).toBe('');
    });

    it('refuses anything that is not an app id, including a second unit smuggled in', () => {
      for (const id of [
        'x ssh.service',
        'x\nssh.service',
        'ssh.service',
        'a.b',
        'a/b',
        '../x',
        '/var/lib/hearth/pwn.service',
        'Counter',
        'COUNTER',
        '-rf',
        '--now',
        '1app',
        '',
        'a'.repeat(33),
        'café',
        'x*',
        'x@y',
      ]) {
        const r = runAgent(['start', id]);
        expect([id, r.code]).toEqual([id, 2]);
        expect(r.stderr).toContain('hearth agent: not an app id');
      }
      expect(systemctlCalls()).toBe('');
    });

    it('takes exactly two arguments', () => {
      for (const args of [
        [],
        ['start'],
        ['start', 'x', 'ssh.service'],
        ['enable', 'x', '/var/lib/hearth/pwn.service'],
        ['start', 'counter', ''],
      ]) {
        const r = runAgent(args);
        expect([args, r.code]).toEqual([args, 2]);
        expect(r.stderr).toContain('exactly two arguments');
      }
      expect(systemctlCalls()).toBe('');
    });

    it("ignores the caller's PATH: its own systemctl runs, not one the caller planted", () => {
      const planted = join(dir, 'planted');
      mkdirSync(planted);
      writeFileSync(join(planted, 'systemctl'), `#!/bin/sh\ntouch ${dir}/pwned\n`, {
        mode: 0o755,
      });
      expect(runAgent(['start', 'counter'], { PATH: `${planted}:/usr/bin:/bin` }).code).toBe(0);
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      expect(systemctlCalls()).toBe('2:start hearth-app@counter.service\n');
    });

    const out = () => join(servicesDir, 'hearth-app-notes.service');
    const advertiseWith = (content: string) => {
      writeFileSync(join(appsDir, 'notes', 'advertise'), content, { mode: 0o644 });
      return runAgent(['advertise', 'notes']);
    };

    it('publishes each declared service on its device port, named after the app and the device', () => {
      const r = advertiseWith(
        advertiseFile('Visit counter', [
          { service: '_http._tcp', host: 8080 },
          { host: 9000 },
          { service: '_caldav._tcp', host: 5232 },
        ]),
      );
      expect(r.code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual(['hearth-app-notes.service']);
      const xml = readFileSync(out(), 'utf8');
      expect(xml).toContain('<name replace-wildcards="yes">Visit counter on %h</name>');
      expect(xml).toContain('<service><type>_http._tcp</type><port>8080</port></service>');
      expect(xml).toContain('<service><type>_caldav._tcp</type><port>5232</port></service>');
      expect(xml).not.toContain('9000');
      expect(systemctlCalls()).toBe('');
    });

    it('drops anything that is not a service type and a port, and lets nothing into the XML', () => {
      advertiseWith(
        [
          'name <b>Evil</b> & "quoted" </name><service> $(touch /tmp/x) `id`',
          'service _http._tcp 8080</port><type>_ssh._tcp',
          'service _x._tcp 99999',
          'service _ok._tcp 0',
          'service ../../etc._tcp 80',
          'service _web._tcp 8081',
        ].join('\n'),
      );
      const xml = readFileSync(out(), 'utf8');
      const name = /<name replace-wildcards="yes">(.*) on %h<\/name>/.exec(xml)?.[1];
      expect(name).toMatch(/^bEvilb +quoted nameservice/);
      expect(name).not.toMatch(/[<>&"$`()]/);
      expect(xml.match(/<service>/g)).toHaveLength(1);
      expect(xml).toContain('<type>_web._tcp</type><port>8081</port>');
    });

    it('writes nothing when the app publishes no service, or has no advertise file', () => {
      expect(advertiseWith('name Notes\n').code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual([]);
      // What installs write for such an app: nothing, which the agent does not read at all.
      expect(advertiseFile('Notes', [{ host: 8080 }])).toBe('');
      writeFileSync(out(), '<x/>');
      expect(advertiseWith('').code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual([]);
      rmSync(join(appsDir, 'notes', 'advertise'));
      expect(runAgent(['advertise', 'notes']).code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual([]);
      expect(runAgent(['advertise', '../notes']).code).toBe(2);
    });

    it('refuses a FIFO as the advertise file at once, instead of hanging', () => {
      execFileSync('mkfifo', [join(appsDir, 'notes', 'advertise')]);
      const started = Date.now();
      const r = runAgent(['advertise', 'notes']);
      expect(r.timedOut).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('is not a regular file; notes is not announced');
      expect(readdirSync(servicesDir)).toEqual([]);
    });

    it('refuses a symlink as the advertise file, even to a file it could read', () => {
      const readable = join(dir, 'readable');
      writeFileSync(readable, 'service _leak._tcp 1234\n', { mode: 0o644 });
      symlinkSync(readable, join(appsDir, 'notes', 'advertise'));
      const r = runAgent(['advertise', 'notes']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('is not a regular file');
      expect(readdirSync(servicesDir)).toEqual([]);
    });

    it('reads as the hearth account: a root-only file gives nothing', () => {
      const secret = join(appsDir, 'notes', 'advertise');
      writeFileSync(secret, 'service _leak._tcp 1234\n', { mode: 0o600 });
      expect(runAgent(['advertise', 'notes']).code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual([]);
    });

    it("reads without root's group either: a file only root's group may read gives nothing", () => {
      const secret = join(appsDir, 'notes', 'advertise');
      writeFileSync(secret, 'service _leak._tcp 1234\n', { mode: 0o640 });
      chmodSync(secret, 0o640);
      expect(runAgent(['advertise', 'notes']).code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual([]);
    });

    it('reads as the account through runuser on a device without setpriv', () => {
      // The device's own programs, setpriv left out.
      const noSetpriv = join(dir, 'no-setpriv');
      mkdirSync(noSetpriv);
      for (const name of readdirSync('/usr/bin'))
        if (name !== 'setpriv') symlinkSync(join('/usr/bin', name), join(noSetpriv, name));
      const older = join(dir, 'agent-older');
      writeFileSync(
        older,
        agentScript({ appsDir, servicesDir, user: 'nobody', path: `${noSetpriv}:/usr/sbin` }),
        { mode: 0o755 },
      );
      const advertise = join(appsDir, 'notes', 'advertise');
      writeFileSync(advertise, advertiseFile('Notes', [{ service: '_http._tcp', host: 8080 }]));
      expect(spawnSync(older, ['advertise', 'notes']).status).toBe(0);
      expect(readFileSync(out(), 'utf8')).toContain('<port>8080</port>');
      rmSync(out());
      chmodSync(advertise, 0o600);
      expect(spawnSync(older, ['advertise', 'notes']).status).toBe(0);
      expect(readdirSync(servicesDir)).toEqual([]);
    });

    it('refuses a device node as the advertise file (a read that never ends)', () => {
      symlinkSync('/dev/zero', join(appsDir, 'notes', 'advertise'));
      expect(runAgent(['advertise', 'notes']).timedOut).toBe(false);
      expect(readdirSync(servicesDir)).toEqual([]);
    });

    it('withdraws only its own app file when the app stops', () => {
      writeFileSync(out(), '<x/>');
      writeFileSync(join(servicesDir, 'other.service'), '<x/>');
      expect(runAgent(['withdraw', 'notes']).code).toBe(0);
      expect(readdirSync(servicesDir)).toEqual(['other.service']);
      expect(runAgent(['withdraw', '../other']).code).toBe(2);
      expect(readdirSync(servicesDir)).toEqual(['other.service']);
    });
  },
);

describe('the agent asks for exactly what backups need', () => {
  it('builds the backup and peer commands from validated words only', () => {
    expect(agentBackupCommand('counter', 60)).toBe(
      'sudo -n /usr/local/lib/hearth/agent backup-on counter 60',
    );
    expect(agentBackupCommand('counter', null)).toBe(
      'sudo -n /usr/local/lib/hearth/agent backup-off counter',
    );
    expect(() => agentBackupCommand('counter', 7)).toThrow(/interval/);
    expect(() => agentBackupCommand('x y', 60)).toThrow(/app id/);
    expect(agentPeerCommand(sourceId, keyBlob)).toBe(
      `sudo -n /usr/local/lib/hearth/agent peer-allow ${sourceId} ${keyBlob}`,
    );
    expect(() => agentPeerCommand('not-an-id', keyBlob)).toThrow(/device id/);
    expect(() => agentPeerCommand(sourceId, `${keyBlob} x`)).toThrow(/ed25519/);
    expect(() => agentPeerCommand(sourceId, `no-pty ${keyBlob}`)).toThrow(/ed25519/);
  });

  it('keeps a backup interval on a calendar, or refuses it', () => {
    expect([1, 5, 15, 30, 60, 120, 360, 720, 1440].every(isBackupInterval)).toBe(true);
    expect([0, -1, 7, 45, 90, 300, 2880, 1.5, Number.NaN].some(isBackupInterval)).toBe(false);
    expect(backupCalendar(1)).toBe('*-*-* *:00/1:00');
    expect(backupCalendar(1440)).toBe('*-*-* 00/24:00:00');
  });
});

// A real ed25519 public key blob (68 base64 characters), and a device id.
const keyBlob = 'AAAAC3NzaC1lZDI1NTE5AAAAIJ9R08asc30cbIsF36N315WBzd88dfZWdNACEYFoLCEA';
const sourceId = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';

describe.skipIf(!root)(
  'the real agent, backup and peer verbs (needs root: skipped otherwise)',
  () => {
    let dir = '';
    let calls = '';
    let agent = '';
    let w: {
      unitDir: string;
      sshdDropIn: string;
      peerKeysDir: string;
      peerChrootsDir: string;
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hearth-agent-peer-'));
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      calls = join(dir, 'calls');
      // Every tool that changes accounts, units or owners only records its argv here.
      for (const tool of ['systemctl', 'groupadd', 'useradd', 'usermod', 'chown'])
        writeFileSync(join(bin, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> ${calls}\n`, {
          mode: 0o755,
        });
      writeFileSync(join(bin, 'getent'), '#!/bin/sh\nexit 2\n', { mode: 0o755 });
      w = {
        unitDir: join(dir, 'units'),
        sshdDropIn: join(dir, 'hearth-peers.conf'),
        peerKeysDir: join(dir, 'peer-keys'),
        peerChrootsDir: join(dir, 'chroots'),
      };
      mkdirSync(w.unitDir);
      writeFileSync(join(w.unitDir, 'hearth-backup@.timer'), '[Timer]\n');
      writeFileSync(w.sshdDropIn, 'Match Group hearth-peers\n');
      agent = join(dir, 'agent');
      writeFileSync(agent, agentScript({ ...w, path: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` }), {
        mode: 0o755,
      });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const run = (args: string[]) => {
      const r = spawnSync(agent, args, { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const recorded = () => (existsSync(calls) ? readFileSync(calls, 'utf8') : '');

    it('puts the schedule in a drop-in and enables the timer', () => {
      expect(run(['backup-on', 'counter', '15']).code).toBe(0);
      expect(
        readFileSync(join(w.unitDir, 'hearth-backup@counter.timer.d', 'schedule.conf'), 'utf8'),
      ).toContain('[Timer]\nOnCalendar=\nOnCalendar=*-*-* *:00/15:00\n');
      expect(run(['backup-on', 'counter', '360']).code).toBe(0);
      expect(
        readFileSync(join(w.unitDir, 'hearth-backup@counter.timer.d', 'schedule.conf'), 'utf8'),
      ).toContain('OnCalendar=*-*-* 00/6:00:00\n');
      expect(recorded()).toContain('systemctl enable hearth-backup@counter.timer\n');
      expect(run(['backup-off', 'counter']).code).toBe(0);
      expect(existsSync(join(w.unitDir, 'hearth-backup@counter.timer.d'))).toBe(false);
      expect(recorded()).toContain('systemctl disable --now hearth-backup@counter.timer\n');
    });

    it('refuses intervals, ids and argument counts it does not know', () => {
      for (const args of [
        ['backup-on', 'counter', '7'],
        ['backup-on', 'counter', '0'],
        ['backup-on', 'counter', '060'],
        ['backup-on', 'counter', '-5'],
        ['backup-on', 'counter', '5;id'],
        ['backup-on', 'counter', '2880'],
        ['backup-on', 'counter', ''],
        ['backup-on', '../x', '60'],
        ['backup-on', 'x.timer', '60'],
        ['backup-on', 'counter'],
        ['backup-on', 'counter', '60', 'x'],
        ['backup-off', 'counter', 'x'],
      ]) {
        const r = run(args);
        expect([args, r.code]).toEqual([args, 2]);
      }
      expect(recorded()).toBe('');
    });

    it("makes the source device's SFTP-only account, its chroot and its root-owned key file", () => {
      const r = run(['peer-allow', sourceId, keyBlob]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('hb-0b6f1c2e3d4a\n');
      const log = recorded();
      expect(log).toContain('groupadd --system hearth-peers\n');
      expect(log).toContain(
        'useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --gid hearth-peers --comment Hearth backups of another device hb-0b6f1c2e3d4a\n',
      );
      expect(log).toContain(`chown root:root ${w.peerChrootsDir}/hb-0b6f1c2e3d4a\n`);
      expect(log).toContain(
        `chown hb-0b6f1c2e3d4a:hearth-peers ${w.peerChrootsDir}/hb-0b6f1c2e3d4a/repo\n`,
      );
      expect(readFileSync(join(w.peerKeysDir, 'hb-0b6f1c2e3d4a'), 'utf8')).toBe(
        `restrict ssh-ed25519 ${keyBlob} hearth-backup@${sourceId}\n`,
      );
      expect(run(['peer-revoke', sourceId]).code).toBe(0);
      expect(existsSync(join(w.peerKeysDir, 'hb-0b6f1c2e3d4a'))).toBe(false);
      expect(existsSync(join(w.peerChrootsDir, 'hb-0b6f1c2e3d4a', 'repo'))).toBe(true);
    });

    it('refuses any key that is not one bare ed25519 key, and any id that is not a device id', () => {
      for (const key of [
        `${keyBlob}\nssh-ed25519 ${keyBlob}`,
        `command="sh" ${keyBlob}`,
        `ssh-ed25519 ${keyBlob}`,
        `${keyBlob} comment`,
        keyBlob.slice(0, 67),
        `${keyBlob}A`,
        keyBlob.replace('AAAAC3', 'AAAAB3'),
        keyBlob.replace(/.$/, '='),
        keyBlob.replace(/.$/, '%'),
        '',
      ]) {
        const r = run(['peer-allow', sourceId, key]);
        expect([key, r.code]).toEqual([key, 2]);
        expect(r.stderr).toContain('not an ed25519 public key');
      }
      for (const id of [
        '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c',
        '0B6F1C2E-3D4A-4B5C-8D6E-7F8091A2B3C4',
        '../../../../etc/ssh-4b5c-8d6e-7f8091a2b3c4',
        '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4/..',
        '0b6f1c2e-3d4a-4b5c-8d6e--f8091a2b3c4',
        '-b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4',
        'counter',
        '',
      ]) {
        const r = run(['peer-allow', id, keyBlob]);
        expect([id, r.code]).toEqual([id, 2]);
        expect(r.stderr).toContain('not a device id');
      }
      expect(recorded()).toBe('');
      expect(existsSync(w.peerKeysDir)).toBe(false);
    });

    it('refuses an account of that name that is not a Hearth backup account', () => {
      writeFileSync(
        join(dir, 'bin', 'getent'),
        '#!/bin/sh\necho "hb-0b6f1c2e3d4a:x:999:999::/home/x:/bin/bash"\n',
        {
          mode: 0o755,
        },
      );
      const r = run(['peer-allow', sourceId, keyBlob]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is not a Hearth backup account');
      expect(existsSync(w.peerKeysDir)).toBe(false);
    });

    it('refuses a chroot that was replaced by a link', () => {
      mkdirSync(w.peerChrootsDir);
      symlinkSync('/etc', join(w.peerChrootsDir, 'hb-0b6f1c2e3d4a'));
      const r = run(['peer-allow', sourceId, keyBlob]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is a link');
    });

    it('refuses to make an account on a device whose sshd has no Hearth rule', () => {
      rmSync(w.sshdDropIn);
      const r = run(['peer-allow', sourceId, keyBlob]);
      expect(r.code).toBe(2);
      expect(recorded()).toBe('');
    });

    describe.skipIf(spawnSync('sh', ['-c', 'command -v restic']).status !== 0)(
      'reading the copies another device keeps here (needs restic)',
      () => {
        const password = 'correct horse battery staple';
        const account = 'hb-0b6f1c2e3d4a';
        const repo = () => join(w.peerChrootsDir, account, 'repo');
        const restic = (args: string[], input?: string) =>
          spawnSync('restic', ['--no-cache', '-r', repo(), ...args], {
            env: { PATH: '/usr/bin:/bin', RESTIC_PASSWORD: password },
            encoding: 'utf8',
            ...(input === undefined ? {} : { input }),
          });
        const runWith = (args: string[], input: string) => {
          const r = spawnSync(agent, args, {
            env: { PATH: '/usr/bin:/bin' },
            encoding: 'utf8',
            input,
          });
          return { code: r.status, stdout: r.stdout, stderr: r.stderr };
        };

        beforeEach(() => {
          const bin = join(dir, 'bin');
          // The account as peer-allow makes it; setpriv records who restic would run as, then runs it.
          writeFileSync(
            join(bin, 'getent'),
            `#!/bin/sh\n[ "$2" = ${account} ] && echo "${account}:x:999:999::/:/usr/sbin/nologin" || exit 2\n`,
            { mode: 0o755 },
          );
          writeFileSync(join(bin, 'id'), '#!/bin/sh\necho hearth-peers\n', { mode: 0o755 });
          writeFileSync(
            join(bin, 'setpriv'),
            `#!/bin/sh\nprintf '%s\\n' "setpriv $1 $2 $3" >> ${calls}\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n`,
            { mode: 0o755 },
          );
          mkdirSync(repo(), { recursive: true });
          expect(restic(['init']).status).toBe(0);
          const backup = restic(
            ['backup', '--stdin', '--stdin-filename', 'counter.tar', '--host', sourceId].concat([
              '--tag',
              'hearth',
              '--tag',
              'app=counter',
              '--json',
            ]),
            'the tar of counter',
          );
          expect(backup.status).toBe(0);
        });

        it('lists every source account’s snapshots as that account, with the password from stdin', () => {
          const r = runWith(['peer-snapshots'], `${password}\n`);
          expect(r.code).toBe(0);
          const [line, ...rest] = r.stdout.trim().split('\n');
          expect(rest).toEqual([]);
          expect(line?.startsWith(`${account} ok [`)).toBe(true);
          const listed = JSON.parse(line!.slice(`${account} ok `.length)) as {
            hostname: string;
            paths: string[];
            id: string;
          }[];
          expect(listed).toMatchObject([{ hostname: sourceId, paths: ['/counter.tar'] }]);
          expect(recorded()).toContain(
            `setpriv --reuid=${account} --regid=hearth-peers --clear-groups\n`,
          );
          // Only read: no lock was left and nothing else was written.
          expect(readdirSync(join(repo(), 'locks'))).toEqual([]);

          const dumped = runWith(
            ['peer-dump', sourceId, 'counter', listed[0]!.id.slice(0, 8)],
            `${password}\n`,
          );
          expect(dumped.code).toBe(0);
          expect(dumped.stdout).toBe('the tar of counter');
          expect(agentPeerSnapshotsCommand()).toBe(
            'sudo -n /usr/local/lib/hearth/agent peer-snapshots',
          );
          expect(agentPeerDumpCommand(sourceId, 'counter', listed[0]!.id)).toBe(
            `sudo -n /usr/local/lib/hearth/agent peer-dump ${sourceId} counter ${listed[0]!.id}`,
          );
        });

        it('says which repositories the password does not open, and refuses a password not given', () => {
          expect(runWith(['peer-snapshots'], 'not the password\n').stdout).toBe(
            `${account} failed wrong-password\n`,
          );
          for (const input of ['', 'short\n']) {
            const r = runWith(['peer-snapshots'], input);
            expect(r.code).toBe(2);
            expect(r.stdout).toBe('');
          }
          // An account peer-allow did not make is not read.
          writeFileSync(join(dir, 'bin', 'getent'), '#!/bin/sh\nexit 2\n', { mode: 0o755 });
          expect(runWith(['peer-snapshots'], `${password}\n`).stdout).toBe('');
          expect(
            runWith(['peer-dump', sourceId, 'counter', 'abcdef12'], `${password}\n`).code,
          ).toBe(2);
        });

        it('refuses anything but a device id, an app id and a snapshot id', () => {
          for (const args of [
            ['peer-dump', sourceId, 'counter'],
            ['peer-dump', sourceId, 'counter', 'abcdef12', 'x'],
            ['peer-dump', 'hb-0b6f1c2e3d4a', 'counter', 'abcdef12'],
            ['peer-dump', sourceId, '../counter', 'abcdef12'],
            ['peer-dump', sourceId, 'counter', 'latest'],
            ['peer-dump', sourceId, 'counter', 'abc'],
            ['peer-dump', sourceId, 'counter', '--help'],
            ['peer-snapshots', account],
          ]) {
            const r = runWith(args, `${password}\n`);
            expect([args, r.code, r.stdout]).toEqual([args, 2, '']);
          }
          expect(() => agentPeerDumpCommand(sourceId, 'counter', 'latest')).toThrow(/snapshot/);
          expect(() => agentPeerDumpCommand('hb-0b6f1c2e3d4a', 'counter', 'abcdef12')).toThrow(
            /device/,
          );
        });

        it('does not follow a repository replaced by a link', () => {
          rmSync(join(w.peerChrootsDir, account), { recursive: true });
          mkdirSync(join(w.peerChrootsDir, account));
          symlinkSync('/etc', repo());
          expect(runWith(['peer-snapshots'], `${password}\n`).stdout).toBe(
            `${account} failed unreadable\n`,
          );
          expect(recorded()).not.toContain('setpriv');
        });
      },
    );
  },
);
