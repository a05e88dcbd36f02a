// OpenSSH's "randomart" (the drunken bishop walk): a small picture of a host key
// fingerprint that people compare more reliably than 43 characters of base64. The same
// picture `ssh-keygen -lv` prints, so an owner can check it against the device.

const SYMBOLS = ' .o+=*BOX@%&#/^';
const WIDTH = 17;
const HEIGHT = 9;
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeBase64(text: string): number[] {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.replace(/=+$/, '')) {
    const value = BASE64.indexOf(char);
    if (value < 0) throw new Error('not base64');
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return bytes;
}

/** Lines of the picture, framed as OpenSSH frames it ("+---[ED25519 256]--+"). */
export function fingerprintArt(fingerprint: string, keyLabel = ''): string[] {
  const hash = decodeBase64(fingerprint.replace(/^SHA256:/, ''));
  const field = Array.from({ length: HEIGHT }, () => new Array<number>(WIDTH).fill(0));
  let x = Math.floor(WIDTH / 2);
  let y = Math.floor(HEIGHT / 2);
  const startX = x;
  const startY = y;
  for (const byte of hash) {
    let input = byte;
    for (let step = 0; step < 4; step++) {
      x = Math.max(0, Math.min(WIDTH - 1, x + (input & 1 ? 1 : -1)));
      y = Math.max(0, Math.min(HEIGHT - 1, y + (input & 2 ? 1 : -1)));
      const row = field[y]!;
      if (row[x]! < SYMBOLS.length - 1) row[x]!++;
      input >>= 2;
    }
  }
  const rows = field.map((row, ry) =>
    row
      .map((count, rx) => {
        // The end is drawn over the start where the walk comes back to it, as ssh-keygen does.
        if (rx === x && ry === y) return 'E';
        if (rx === startX && ry === startY) return 'S';
        return SYMBOLS[count] ?? ' ';
      })
      .join(''),
  );
  const frame = (label: string) => {
    if (!label) return `+${'-'.repeat(WIDTH)}+`;
    const text = `[${label}]`.slice(0, WIDTH);
    const left = Math.floor((WIDTH - text.length) / 2);
    return `+${'-'.repeat(left)}${text}${'-'.repeat(WIDTH - left - text.length)}+`;
  };
  return [frame(keyLabel), ...rows.map((r) => `|${r}|`), frame('SHA256')];
}
