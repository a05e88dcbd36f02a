import { isPersonaName, personas as allPersonas } from './personas';
import type { PersonaName } from './personas';
import { maxDevices } from './addresses';

export type Command =
  | { cmd: 'up'; devices: number; personas: PersonaName[]; reuse: boolean }
  | { cmd: 'down' }
  | { cmd: 'status'; json: boolean }
  | { cmd: 'exec'; device: string; argv: string[] }
  | { cmd: 'laptop'; argv: string[] }
  | { cmd: 'cut' | 'heal' | 'poweroff' | 'boot'; device: string }
  | { cmd: 'shape'; device: string; rate: string; delay?: string }
  | { cmd: 'unshape'; device: string }
  | { cmd: 'build' }
  | { cmd: 'help' };

export const usage = `usage: npm run lab -- <command>
  up [--devices N] [--persona pi,debian,hearth] [--reuse]   a fresh virtual home (default: 3 mixed devices)
  down                                   remove everything the lab made
  status [--json]                        devices, addresses, logins, host key fingerprints, state
  exec DEVICE -- CMD...                  run CMD as root on a device
  laptop -- CMD...                       run CMD on the laptop side of the LAN
  cut DEVICE | heal DEVICE               unplug / replug a device's network cable
  poweroff DEVICE | boot DEVICE          power a device off / on (its disk is kept)
  shape DEVICE RATE [DELAY]              e.g. shape pi 300mbit 5ms; unshape DEVICE to undo
  build                                  build (or check) the cached device root, kernels and microVM`;

export class UsageError extends Error {}

/** Splits at the first `--`: what follows is a command line of its own, kept verbatim. */
function splitCommand(args: readonly string[]): [string[], string[]] {
  const i = args.indexOf('--');
  return i < 0 ? [[...args], []] : [args.slice(0, i), args.slice(i + 1)];
}

export function parseArgs(args: readonly string[]): Command {
  const [head, rest] = splitCommand(args);
  const [cmd, ...params] = head;
  const one = (): string => {
    if (params.length !== 1 || !params[0]) throw new UsageError(`${cmd} takes one DEVICE`);
    return params[0];
  };
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { cmd: 'help' };
    case 'up':
      return parseUp(params);
    case 'down':
    case 'build':
      if (params.length) throw new UsageError(`${cmd} takes no arguments`);
      return { cmd };
    case 'status': {
      const unknown = params.filter((p) => p !== '--json');
      if (unknown.length) throw new UsageError(`status: unknown option ${unknown[0]}`);
      return { cmd: 'status', json: params.includes('--json') };
    }
    case 'exec': {
      const device = one();
      if (!rest.length) throw new UsageError('exec DEVICE -- CMD: missing CMD');
      return { cmd: 'exec', device, argv: rest };
    }
    case 'laptop':
      if (params.length) throw new UsageError('laptop -- CMD: put the command after --');
      if (!rest.length) throw new UsageError('laptop -- CMD: missing CMD');
      return { cmd: 'laptop', argv: rest };
    case 'cut':
    case 'heal':
    case 'poweroff':
    case 'boot':
    case 'unshape':
      return { cmd, device: one() };
    case 'shape': {
      const [device, rate, delay, ...extra] = params;
      if (!device || !rate || extra.length) throw new UsageError('shape DEVICE RATE [DELAY]');
      if (!/^\d+(\.\d+)?([kmg]?bit|[kmg]?bps)$/i.test(rate)) {
        throw new UsageError(`shape: rate ${rate} is not like 1gbit or 300mbit`);
      }
      if (delay !== undefined && !/^\d+(\.\d+)?(us|ms|s)$/.test(delay)) {
        throw new UsageError(`shape: delay ${delay} is not like 5ms`);
      }
      return delay === undefined ? { cmd, device, rate } : { cmd, device, rate, delay };
    }
    default:
      throw new UsageError(`unknown command ${cmd}`);
  }
}

function parseUp(params: readonly string[]): Command {
  let devices = 3;
  let personas: PersonaName[] = [];
  let reuse = false;
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as string;
    const [flag, inline] = p.includes('=') ? (p.split('=', 2) as [string, string]) : [p, undefined];
    const value = (): string => {
      const v = inline ?? params[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--devices') {
      const v = value();
      devices = Number(v);
      if (!/^\d+$/.test(v) || devices < 1 || devices > maxDevices) {
        throw new UsageError(`--devices must be 1..${maxDevices}`);
      }
    } else if (flag === '--persona') {
      for (const name of value().split(',')) {
        if (!isPersonaName(name))
          throw new UsageError(`unknown persona ${name} (${Object.keys(allPersonas).join(', ')})`);
        personas.push(name);
      }
    } else if (flag === '--reuse') {
      reuse = true;
    } else {
      throw new UsageError(`up: unknown option ${p}`);
    }
  }
  personas = personas.length ? personas : [];
  return { cmd: 'up', devices, personas, reuse };
}
