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
import { agentCommand, agentUnitVerbs, agentVerbs } from './agent-protocol';
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
    expect(script).toContain('runuser -u hearth -- perl');
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
const hasPerlAndRunuser =
  spawnSync('sh', ['-c', 'command -v perl && command -v runuser']).status === 0;

describe.skipIf(!root || !hasPerlAndRunuser)(
  // runuser (to read as another account) needs root; CI runs the unit tests as root.
  'the real agent against hostile input (needs root and runuser: skipped otherwise)',
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
