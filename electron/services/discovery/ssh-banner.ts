// Reads the SSH identification line a server sends first ("SSH-2.0-OpenSSH_9.2p1
// Debian-2+deb12u3") and what it hints about the device. Pure.
import { sanitizeLabel } from './sanitize';

export type OsHint = 'raspbian' | 'debian' | 'ubuntu' | 'other';

export interface SshBanner {
  /** The identification line, sanitised, at most 255 characters. */
  raw: string;
  protocol: string;
  software: string;
  comment: string;
  os: OsHint;
}

const MAX_BANNER = 255;

/** Parses one identification line; undefined if it is not one. */
export function parseSshBanner(line: string): SshBanner | undefined {
  const trimmed = line.replace(/\r?\n$/, '').replace(/\r$/, '');
  if (!trimmed.startsWith('SSH-')) return undefined;
  const raw = sanitizeLabel(trimmed, MAX_BANNER);
  const match = /^SSH-([^-\s]+)-(\S+)(?:\s+(.*))?$/.exec(raw);
  if (!match) return undefined;
  const protocol = match[1] ?? '';
  const software = match[2] ?? '';
  const comment = match[3] ?? '';
  return { raw, protocol, software, comment, os: osHint(`${software} ${comment}`) };
}

function osHint(text: string): OsHint {
  const lower = text.toLowerCase();
  if (lower.includes('raspbian')) return 'raspbian';
  if (lower.includes('ubuntu')) return 'ubuntu';
  if (lower.includes('debian') || /\+deb\d+u\d+/.test(lower)) return 'debian';
  return 'other';
}

/**
 * Finds the identification line in the first bytes a server sent. RFC 4253 lets servers
 * send other lines first; those are skipped. Returns 'incomplete' while no full line
 * starting with "SSH-" has arrived and more may come, 'not-ssh' when the data cannot be SSH.
 */
export function findBannerLine(
  data: string,
  maxBytes = 8192,
): { line: string } | 'incomplete' | 'not-ssh' {
  let start = 0;
  for (;;) {
    const end = data.indexOf('\n', start);
    if (end === -1) {
      const rest = data.slice(start);
      if (rest.startsWith('SSH-') && rest.length > MAX_BANNER)
        return { line: rest.slice(0, MAX_BANNER) };
      if (data.length >= maxBytes) return 'not-ssh';
      // A partial line that already cannot become "SSH-…" is still allowed (pre-banner text).
      return 'incomplete';
    }
    const line = data.slice(start, end).replace(/\r$/, '');
    if (line.startsWith('SSH-')) return { line };
    // Binary garbage (NUL) or an HTTP answer is not an SSH server.
    if (line.includes('\0') || /^HTTP\//.test(line)) return 'not-ssh';
    start = end + 1;
    if (start >= maxBytes) return 'not-ssh';
  }
}
