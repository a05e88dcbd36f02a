// Text that arrives from the network (mDNS names, TXT values, SSH banners) is shown to
// the owner: strip control and direction-changing characters and bound the length.

// C0/C1 controls, DEL, zero-width and bidirectional overrides/isolates, BOM.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

export function sanitizeLabel(value: unknown, maxLength = 63): string {
  const text =
    typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : '';
  const cleaned = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned.length <= maxLength) return cleaned;
  // Cut on a code point boundary.
  return Array.from(cleaned).slice(0, maxLength).join('').trimEnd();
}

/** A DNS host name as Hearth keeps it: lower case, no trailing dot, safe characters only. */
export function normalizeHostname(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.trim().replace(/\.$/, '').toLowerCase();
  if (name.length === 0 || name.length > 253) return undefined;
  if (!/^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$/.test(name)) return undefined;
  return name;
}

export function isIPv4(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const parts = value.split('.');
  return (
    parts.length === 4 &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')))
  );
}
