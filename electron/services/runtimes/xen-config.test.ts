// Checks the generated xl domain configs against the documented format: xl.cfg(5) ("SYNTAX":
// KEY=VALUE pairs separated by newlines or ";", VALUE a quoted STRING, a NUMBER, or a list
// [ VALUE, ... ]; "#" comments) with the string escapes of xl's lexer (libxlu_cfg), and the
// disk specs against docs/misc/xl-disk-configuration.txt. The parser below is written from
// those documents, not from the generator, so the test does not just echo the code.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaunchSpec } from './launch-spec';
import { BOOT_MARKER } from '../device/app-status-report';
import {
  xenConsoleLog,
  xenDomainConfig,
  xenMac,
  xenRunScript,
  xenStopScript,
  xlString,
} from './xen-config';

const DEVICE = '0f8fad5b-d9cb-469f-a165-70867728950e';

type XlValue = string | number | XlValue[];

function parseXlCfg(text: string): Map<string, XlValue> {
  let i = 0;
  const out = new Map<string, XlValue>();
  const err = (msg: string): never => {
    throw new Error(`xl.cfg parse error at ${i}: ${msg}`);
  };
  const skip = (newlines: boolean) => {
    for (;;) {
      const c = text[i];
      if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else if (c === ' ' || c === '\t' || (newlines && c === '\n')) i++;
      else return;
    }
  };
  const string = (): string => {
    const quote = text[i++];
    let s = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined || c === '\n') err('unterminated string');
      if (c === quote) return s;
      if (c === '\\') {
        const n = text[i++];
        const map: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', n: '\n', t: '\t' };
        if (n === undefined || map[n] === undefined) err(`unsupported escape \\${String(n)}`);
        s += map[n as string];
      } else s += c;
    }
  };
  const value = (): XlValue => {
    skip(true);
    const c = text[i];
    if (c === '"' || c === "'") return string();
    if (c === '[') {
      i++;
      const list: XlValue[] = [];
      skip(true);
      if (text[i] === ']') {
        i++;
        return list;
      }
      for (;;) {
        list.push(value());
        skip(true);
        if (text[i] === ',') {
          i++;
          skip(true);
          if (text[i] === ']') {
            i++;
            return list;
          }
          continue;
        }
        if (text[i] === ']') {
          i++;
          return list;
        }
        err('expected , or ]');
      }
    }
    const m = /^(0x[0-9a-fA-F]+|[0-9]+)/.exec(text.slice(i));
    if (!m?.[1]) return err('expected a value');
    i += m[1].length;
    return Number(m[1]);
  };
  for (;;) {
    skip(true);
    while (text[i] === ';') {
      i++;
      skip(true);
    }
    if (i >= text.length) return out;
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
    if (!key) err('expected a key');
    i += (key as string).length;
    skip(false);
    if (text[i++] !== '=') err('expected =');
    const v = value();
    if (out.has(key as string)) err(`duplicate key ${key as string}`);
    out.set(key as string, v);
    skip(false);
    if (i < text.length && text[i] !== '\n' && text[i] !== ';') err('expected end of setting');
  }
}

/** A diskspec as docs/misc/xl-disk-configuration.txt reads it: key=value, target= last. */
function parseDiskSpec(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = spec;
  while (rest.length) {
    rest = rest.replace(/^\s+/, '');
    if (rest.startsWith('target=')) {
      out.target = rest.slice('target='.length); // consumes the rest of the spec
      break;
    }
    const comma = rest.indexOf(',');
    const part = comma < 0 ? rest : rest.slice(0, comma);
    const [k, v] = part.split('=');
    if (!k || v === undefined) throw new Error(`not key=value: ${part}`);
    out[k] = v;
    rest = comma < 0 ? '' : rest.slice(comma + 1);
  }
  return out;
}

const root = mkdtempSync(`${tmpdir()}/hearth-xen-unit-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const calendar: LaunchSpec = {
  appId: 'calendar',
  hostId: DEVICE,
  appDir: '/var/lib/hearth/apps/calendar',
  arch: 'x86_64',
  kernelPath: '/var/lib/hearth/apps/calendar/current',
  initrdPath: '/var/lib/hearth/apps/calendar/initrd',
  memoryMiB: 256,
  volumes: [
    { name: 'data', path: '/var/lib/hearth/apps/calendar/data/data.img' },
    { name: 'index', path: '/var/lib/hearth/apps/calendar/data/index.img' },
  ],
  disk: 'virtio',
  ports: [{ name: 'http', guest: 8080, host: 8080, protocol: 'tcp' }],
  bootArgs: 'console=hvc0 --ipv4=dhcp "quoted" back\\slash',
  accel: 'tcg',
};

const counter: LaunchSpec = {
  appId: 'counter',
  appDir: '/var/lib/hearth/apps/counter',
  arch: 'x86_64',
  kernelPath: '/var/lib/hearth/apps/counter/current',
  memoryMiB: 32,
  volumes: [],
  disk: 'ide',
  ports: [],
  bootArgs: '',
  accel: 'tcg',
};

describe('xenDomainConfig', () => {
  it('writes a PVH domain per xl.cfg(5) for a networked app with volumes and an initrd', () => {
    const cfg = parseXlCfg(xenDomainConfig(calendar, { bridge: 'xenbr0' }));
    expect(cfg.get('name')).toBe('hearth-calendar');
    expect(cfg.get('type')).toBe('pvh');
    expect(cfg.get('kernel')).toBe(calendar.kernelPath);
    expect(cfg.get('ramdisk')).toBe(calendar.initrdPath);
    expect(cfg.get('cmdline')).toBe(calendar.bootArgs);
    expect(cfg.get('memory')).toBe(256);
    expect(cfg.get('vcpus')).toBe(1);
    expect(cfg.get('on_poweroff')).toBe('destroy');
    expect(cfg.get('on_reboot')).toBe('restart');
    // Documented actions only; preserve lets the run script see the crash (xen-config.ts).
    expect(['destroy', 'restart', 'preserve', 'coredump-destroy', 'coredump-restart']).toContain(
      cfg.get('on_crash'),
    );
    expect(cfg.get('on_crash')).toBe('preserve');
    const disks = cfg.get('disk') as string[];
    expect(disks.map(parseDiskSpec)).toEqual([
      { format: 'raw', vdev: 'xvda', access: 'rw', target: calendar.volumes[0]?.path },
      { format: 'raw', vdev: 'xvdb', access: 'rw', target: calendar.volumes[1]?.path },
    ]);
    const vifs = cfg.get('vif') as string[];
    expect(vifs).toHaveLength(1);
    const vif = Object.fromEntries(
      (vifs[0] ?? '').split(',').map((kv): [string, string] => {
        const [k = '', v = ''] = kv.split('=');
        return [k, v];
      }),
    );
    expect(vif).toEqual({ bridge: 'xenbr0', mac: xenMac('calendar', DEVICE) });
    expect(vif.mac).toMatch(/^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    expect(xenMac('calendar', DEVICE)).toBe(xenMac('calendar', DEVICE));
    expect(xenMac('calendar', DEVICE)).not.toBe(xenMac('counter', DEVICE));
    // The same app on a second Xen host of the same home: another MAC on the shared LAN.
    expect(xenMac('calendar', DEVICE)).not.toBe(
      xenMac('calendar', '7c9e6679-7425-40de-944b-e07fc1f90ae7'),
    );
    // Only keys xl.cfg(5) documents.
    const known = [
      'name',
      'type',
      'kernel',
      'ramdisk',
      'cmdline',
      'memory',
      'vcpus',
      'disk',
      'vif',
    ];
    for (const key of cfg.keys())
      expect([...known, 'on_poweroff', 'on_reboot', 'on_crash']).toContain(key);
  });

  it('leaves out what a minimal app does not have', () => {
    const cfg = parseXlCfg(xenDomainConfig(counter, { bridge: 'br-lan' }));
    expect(cfg.has('ramdisk')).toBe(false);
    expect(cfg.has('cmdline')).toBe(false);
    expect(cfg.get('disk')).toEqual([]);
    expect(cfg.get('vif')).toEqual([]);
    expect(cfg.get('memory')).toBe(32);
  });

  it('round-trips any printable command line through xl string quoting', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e]{0,100}$/), (bootArgs) => {
        const cfg = parseXlCfg(xenDomainConfig({ ...counter, bootArgs }, { bridge: 'xenbr0' }));
        expect(cfg.get('cmdline') ?? '').toBe(bootArgs);
      }),
      { numRuns: 200 },
    );
    expect(() => xlString('a\nb')).toThrow();
    expect(() => xenDomainConfig(counter, { bridge: 'br0 ; rm' })).toThrow();
  });
});

describe('xen run and stop scripts', () => {
  it('are valid sh that run xl create -F in the foreground and stop gracefully', () => {
    const run = xenRunScript(calendar);
    const stop = xenStopScript(calendar, 30);
    for (const [name, s] of [
      ['run', run],
      ['stop', stop],
    ] as const) {
      writeFileSync(`${root}/${name}`, s);
      expect(spawnSync('sh', ['-n', `${root}/${name}`]).status).toBe(0);
    }
    expect(run).toMatch(/^xl create -F \/var\/lib\/hearth\/apps\/calendar\/domain\.cfg$/m);
    expect(run).toContain(`xenlog=${xenConsoleLog(calendar)}`);
    expect(run).not.toMatch(/\bln\b/);
    expect(run).toContain('exit 3');
    expect(stop).toMatch(/^xl shutdown hearth-calendar/m);
    expect(stop).toMatch(/xl destroy hearth-calendar/);
  });
});

function toolExists(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

// The run script runs as root on the device (the unit's Xen drop-in) and hands the console to the
// hearth account. Run the real script with a stand-in `xl` that plays xenconsoled too (it appends
// the guest's output to the xenconsoled log while "running"), the app folder owned by an
// unprivileged account, and the xenconsoled folder root-only, as Debian keeps /var/log/xen.
describe.runIf(process.getuid?.() === 0 && toolExists('runuser'))(
  'the xen run script on a dom0',
  () => {
    async function boot(options: { crash?: boolean; oldLink?: boolean } = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'hearth-xen-run-'));
      try {
        const appDir = join(dir, 'apps', 'calendar');
        const logDir = join(dir, 'log', 'xen', 'console');
        const bin = join(dir, 'bin');
        mkdirSync(appDir, { recursive: true });
        mkdirSync(logDir, { recursive: true });
        mkdirSync(bin);
        chmodSync(dir, 0o755);
        chmodSync(join(dir, 'apps'), 0o755);
        chmodSync(join(dir, 'log', 'xen'), 0o2750);
        chownSync(appDir, 65534, 65534);
        chmodSync(appDir, 0o750);
        const xenLog = join(logDir, 'guest-hearth-calendar.log');
        writeFileSync(xenLog, 'a line from an earlier boot\n');
        if (options.oldLink) symlinkSync(xenLog, join(appDir, 'console.log'));
        writeFileSync(
          join(bin, 'xl'),
          [
            '#!/bin/sh',
            'case "$1" in',
            '  destroy) exit 0 ;;',
            `  create) sleep 0.3; printf 'Booting\\nREADY\\n' >> '${xenLog}'; sleep 0.5; exit 0 ;;`,
            `  domid) ${options.crash ? 'echo 7; exit 0' : 'exit 1'} ;;`,
            'esac',
            'exit 2',
            '',
          ].join('\n'),
          { mode: 0o755 },
        );
        const spec = { ...calendar, appDir, kernelPath: `${appDir}/current` };
        const script = join(dir, 'run');
        writeFileSync(script, xenRunScript(spec, logDir), { mode: 0o755 });
        const child = spawn(script, [], {
          cwd: dir,
          detached: true,
          stdio: 'ignore',
          env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
        });
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        const log = join(appDir, 'console.log');
        // The copy runs on in the background (under systemd, until the unit stops).
        for (let i = 0; i < 50 && !readFileSync(log, 'utf8').includes('READY'); i++)
          await new Promise((r) => setTimeout(r, 100));
        try {
          process.kill(-(child.pid ?? 0), 'SIGTERM');
        } catch {
          // already gone
        }
        return {
          code,
          text: readFileSync(log, 'utf8'),
          isLink: lstatSync(log).isSymbolicLink(),
          owner: statSync(log).uid,
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it('copies this boot of the guest console into console.log, owned by the app folder owner', async () => {
      const { code, text, isLink, owner } = await boot({ oldLink: true });
      expect(code).toBe(0);
      expect(isLink).toBe(false);
      expect(owner).toBe(65534);
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${BOOT_MARKER} calendar at \\d{4}-`));
      expect(lines.slice(1)).toEqual(['Booting', 'READY']);
      expect(text).not.toContain('earlier boot');
    });

    it('reports a crashed (preserved) domain as a failure for systemd', async () => {
      const { code, text } = await boot({ crash: true });
      expect(code).toBe(3);
      expect(text).toContain('READY');
    });
  },
);
