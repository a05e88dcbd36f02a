// A plain-words signal of what a found device is, for the "Find your device" list. Pure.
import { parseSshBanner } from './ssh-banner';

export interface DescribeInput {
  kind: 'hearth' | 'candidate';
  hostnames: readonly string[];
  sshBanner?: string;
  hasSsh: boolean;
}

export const descriptions = {
  hearth: 'Already a Hearth device',
  piDebian: 'Raspberry Pi running Debian',
  piOs: 'Raspberry Pi running Raspberry Pi OS',
  computerDebian: 'Computer running Debian',
  computerUbuntu: 'Computer running Ubuntu',
  ssh: 'Computer that accepts sign-ins (SSH)',
  unknown: 'Device on your network',
} as const;

function looksLikePi(hostnames: readonly string[]): boolean {
  return hostnames.some(
    (h) => /^raspberrypi(?:-\d+)?(?:\.|$)/.test(h) || /^rpi[\w-]*(?:\.|$)/.test(h),
  );
}

export function describeDevice(input: DescribeInput): string {
  if (input.kind === 'hearth') return descriptions.hearth;
  const banner = input.sshBanner ? parseSshBanner(input.sshBanner) : undefined;
  if (banner?.os === 'raspbian') return descriptions.piOs;
  const pi = looksLikePi(input.hostnames);
  if (pi && (banner === undefined || banner.os === 'debian')) return descriptions.piDebian;
  if (banner?.os === 'debian') return descriptions.computerDebian;
  if (banner?.os === 'ubuntu') return descriptions.computerUbuntu;
  if (input.hasSsh || banner) return descriptions.ssh;
  return descriptions.unknown;
}
