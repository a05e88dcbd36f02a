// Which URLs a catalog may point at. The sha256 in a signed catalog protects the bytes
// whatever the transport, so TLS is there for privacy: what the household installs is
// nobody else's business. Hence https: everywhere, and plain http: only for hosts that
// cannot be outside the home (loopback, private and link-local addresses, mDNS names
// under .local, and RFC 8375's home.arpa) — a NAS or the lab serving images on the LAN.
// Credentials in a URL are refused: a catalog is shared text and would leak them.
import { isIP } from 'node:net';
import { urlRefused } from './catalog-errors';

export const MAX_URL_LENGTH = 2048;

function isPrivateIPv4(host: string): boolean {
  const [a = -1, b = -1] = host.split('.').map(Number);
  return (
    a === 127 || // loopback
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) // link-local
  );
}

function isPrivateIPv6(host: string): boolean {
  const h = host.toLowerCase();
  if (h === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped?.[1]) return isPrivateIPv4(mapped[1]);
  // fc00::/7 unique local, fe80::/10 link-local.
  return /^f[cd][0-9a-f]{0,2}:/.test(h) || /^fe[89ab][0-9a-f]?:/.test(h);
}

/** True for hosts that can only be on this computer or the home network. */
export function isLocalNetworkHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 4) return isPrivateIPv4(host);
  if (family === 6) return isPrivateIPv6(host);
  return host.endsWith('.local') || host.endsWith('.home.arpa');
}

/** Why `value` may not be used as a catalog or download URL, or null if it may. */
export function urlProblem(value: string): string | null {
  if (value.length > MAX_URL_LENGTH) return 'the address is too long';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'this is not a web address';
  }
  if (url.username || url.password) return 'the address contains a password';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    return isLocalNetworkHost(url.hostname)
      ? null
      : 'plain http: is only allowed on your home network; use https:';
  }
  return 'only https: addresses are allowed';
}

/** The URL in its normal form (so one catalog is not added twice), or a clear refusal. */
export function checkCatalogUrl(value: string): string {
  const problem = urlProblem(value.trim());
  if (problem) throw urlRefused(`Hearth cannot use that catalog address: ${problem}.`);
  return new URL(value.trim()).href;
}
