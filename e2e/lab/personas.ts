import { randomBytes } from 'node:crypto';
import type { DebianSuite } from './device-root';

export type PersonaName = 'pi' | 'debian' | 'hearth' | 'impostor' | 'bullseye';
/** The default mixed home (the impostor and bullseye join only specs that ask for them). */
export const personaNames: readonly PersonaName[] = ['pi', 'debian', 'hearth'];

export interface Persona {
  name: PersonaName;
  hostname: string;
  user: string;
  /** A fixed password (what such a device ships with), or undefined for a per-`up` random one. */
  password?: string;
  sudo: 'nopasswd' | 'password';
  /** avahi service types the device advertises besides its name.local. */
  advertises: readonly string[];
  /** avahi stays off until a spec starts it (the impostor must not race the pi for its name). */
  avahiOff?: true;
  /** The Debian release its root is debootstrapped from (default: the lab's Debian 12). */
  suite?: DebianSuite;
}

/**
 * What real homes have:
 * - pi: Raspberry Pi OS as flashed, with the default pi/raspberry login, passwordless sudo and
 *   sshd advertised over mDNS.
 * - debian: a plain Debian install; its user typed a password at install time (random per `up`)
 *   and needs it for sudo; avahi answers only for debian.local.
 * - hearth: an already provisioned Hearth device. Until the provisioning issue defines what that
 *   leaves behind (hearth user, device.json, _hearth._tcp), it is a pi with its own hostname.
 * - impostor: another computer pretending to be the pi: its hostname and login, its own host
 *   key and address; a spec makes it announce the pi's Hearth id once the pi is prepared.
 * - bullseye: Debian 11 (sudo 1.9.5, older than sudoers' regular expressions), as Raspberry Pi OS
 *   Bullseye boards still run; brought up only by specs that ask for it.
 */
export const personas: Record<PersonaName, Persona> = {
  pi: {
    name: 'pi',
    hostname: 'raspberrypi',
    user: 'pi',
    password: 'raspberry',
    sudo: 'nopasswd',
    advertises: ['_ssh._tcp'],
  },
  debian: { name: 'debian', hostname: 'debian', user: 'owner', sudo: 'password', advertises: [] },
  hearth: {
    name: 'hearth',
    hostname: 'hearth',
    user: 'pi',
    password: 'raspberry',
    sudo: 'nopasswd',
    advertises: ['_ssh._tcp'],
  },
  impostor: {
    name: 'impostor',
    hostname: 'raspberrypi',
    user: 'pi',
    password: 'raspberry',
    sudo: 'nopasswd',
    advertises: [],
    avahiOff: true,
  },
  bullseye: {
    name: 'bullseye',
    hostname: 'bullseye',
    user: 'pi',
    password: 'raspberry',
    sudo: 'nopasswd',
    advertises: [],
    suite: 'bullseye',
  },
};

export function isPersonaName(s: string): s is PersonaName {
  return Object.hasOwn(personas, s);
}

/** Personas for N devices: the ones asked for in order, cycling; by default a mixed home. */
export function personasFor(count: number, asked: readonly PersonaName[] = []): PersonaName[] {
  const cycle = asked.length > 0 ? asked : personaNames;
  return Array.from({ length: count }, (_, i) => cycle[i % cycle.length] as PersonaName);
}

/**
 * Lab names (used by the CLI) and hostnames: the persona's name for the first of its kind, then
 * -2, -3... so two pis in one home do not fight over raspberrypi.local.
 */
export function nameDevices(
  list: readonly PersonaName[],
): { name: string; persona: PersonaName; hostname: string }[] {
  const seen = new Map<PersonaName, number>();
  return list.map((persona) => {
    const n = (seen.get(persona) ?? 0) + 1;
    seen.set(persona, n);
    const suffix = n === 1 ? '' : `-${n}`;
    return {
      name: `${persona}${suffix}`,
      persona,
      hostname: `${personas[persona].hostname}${suffix}`,
    };
  });
}

export function passwordFor(persona: Persona): string {
  return persona.password ?? randomBytes(9).toString('base64url');
}

export interface PersonaSetup {
  /** Files to write into the device root: path → [content, mode]. */
  files: Record<string, [string, number]>;
  /** A shell script run with chroot in the device root before first boot. */
  script: string;
}

const avahiService = (type: string): string => `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name replace-wildcards="yes">%h</name>
  <service>
    <type>${type}</type>
    <port>${type === '_ssh._tcp' ? 22 : 0}</port>
  </service>
</service-group>
`;

export function personaSetup(persona: Persona, hostname: string, password: string): PersonaSetup {
  const files: PersonaSetup['files'] = {
    '/etc/hostname': [`${hostname}\n`, 0o644],
    '/etc/hosts': [
      `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
      0o644,
    ],
  };
  if (persona.sudo === 'nopasswd') {
    files[`/etc/sudoers.d/010_${persona.user}-nopasswd`] = [
      `${persona.user} ALL=(ALL) NOPASSWD: ALL\n`,
      0o440,
    ];
  }
  for (const type of persona.advertises) {
    files[`/etc/avahi/services/${type.replace(/^_|\._tcp$|\._udp$/g, '')}.service`] = [
      avahiService(type),
      0o644,
    ];
  }
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -e',
    ...(persona.avahiOff
      ? [
          'ln -sf /dev/null /etc/systemd/system/avahi-daemon.service',
          'ln -sf /dev/null /etc/systemd/system/avahi-daemon.socket',
        ]
      : []),
    `useradd --create-home --shell /bin/bash --groups sudo ${persona.user}`,
    `printf '%s\\n' ${quote(`${persona.user}:${password}`)} | chpasswd`,
  ].join('\n');
  return { files, script };
}
