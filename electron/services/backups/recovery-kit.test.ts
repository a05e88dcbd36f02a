import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import { RESTIC_BINARY, TEST_PASSWORD, makeTestRepo } from './restic-test-kit';
import {
  buildRecoveryKit,
  escapeHtml,
  generatePassword,
  PASSWORD_ALPHABET,
  PASSWORD_BITS,
} from './recovery-kit';

/** The dark modules qrcode's SVG path draws ("M x y h n", "m dx 0 h n"), as a matrix. */
function svgModules(svg: string): { size: number; dark: Set<string> } {
  const viewBox = /viewBox="0 0 (\d+) \1"/.exec(svg);
  const d = /<path stroke="#000000" d="([^"]+)"/.exec(svg);
  if (!viewBox || !d) throw new Error('not a qrcode SVG');
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, cmd, a, b] of d[1]!.matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (cmd === 'M') [x, y] = [Number(a), Number(b) - 0.5];
    else if (cmd === 'm') x += Number(a);
    else for (let i = 0; i < Number(a); i++) dark.add(`${x++},${y}`);
  }
  return { size: Number(viewBox[1]), dark };
}

describe('generatePassword', () => {
  it('gives six dash-separated groups of six from the unambiguous alphabet, >= 128 bits', () => {
    expect(PASSWORD_BITS).toBeGreaterThanOrEqual(128);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toMatch(new RegExp(`^([${PASSWORD_ALPHABET}]{6}-){5}[${PASSWORD_ALPHABET}]{6}$`));
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(PASSWORD_ALPHABET).not.toMatch(/[01iloIO]/);
  });
});

describe('buildRecoveryKit', () => {
  const hostile = '<script>alert("x")</script>&\'';
  const input = {
    password: generatePassword(),
    locations: [
      { label: `Backup drive ${hostile}`, repository: `/media/owner/My Drive/hearth ${hostile}` },
      { label: 'The NAS', repository: 'sftp:hearth@nas.local:/srv/hearth' },
    ],
    createdAt: Date.UTC(2026, 11, 1),
    appNames: [`Notes ${hostile}`, 'Photos'],
  };

  it('draws the password as a QR code', async () => {
    const kit = await buildRecoveryKit(input);
    expect(kit.qrSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // The SVG draws exactly the symbol that encodes the password (qrcode's own encoder as the
    // reference: no QR decoder is installed here).
    const symbol = QRCode.create(input.password, { errorCorrectionLevel: 'M' });
    const { size, dark } = svgModules(kit.qrSvg);
    const n = symbol.modules.size;
    expect(size).toBe(n + 4);
    const expected = new Set<string>();
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++) if (symbol.modules.get(r, c)) expected.add(`${c + 2},${r + 2}`);
    expect(dark).toEqual(expected);
  });

  it('is a standalone page: escaped, no script, nothing loaded from anywhere', async () => {
    const kit = await buildRecoveryKit(input);
    expect(kit.password).toBe(input.password);
    expect(kit.locations).toEqual(input.locations);
    expect(kit.createdAt).toBe(input.createdAt);
    const html = kit.html;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain(hostile);
    expect(html).toContain(escapeHtml(hostile));
    expect(html).not.toMatch(/\s(src|href|srcset|action)=/i);
    expect(html).not.toMatch(/url\(|@import|<link|<iframe|<object|<embed|<img/i);
    expect(html).not.toMatch(/\son\w+=/i);
    expect(html).toContain(input.password);
    expect(html).toContain(kit.qrSvg);
    expect(html).toContain('restic -r sftp:hearth@nas.local:/srv/hearth snapshots');
    expect(html).not.toContain('restic -r /media');
    // The first location, quoted for a shell because it has spaces.
    expect(html).toContain(escapeHtml(`restic -r '/media/owner/My Drive/hearth`));
    expect(html).toContain('dump --path /notes.tar latest /notes.tar &gt; notes.tar');
    expect(html).toContain('volumes/&lt;name&gt;.img');
    expect(html).toMatch(/Keep it safe and private/);
  });

  it('names the oldest restic that reads the backups (format 2, which both restics Hearth runs make)', async () => {
    const { html } = await buildRecoveryKit(input);
    expect(html).toContain('Install restic 0.14 or newer: older ones cannot read these backups');
    const repo = await makeTestRepo();
    try {
      const config = JSON.parse(
        execFileSync(RESTIC_BINARY, ['-r', repo.repository, 'cat', 'config'], {
          env: { ...process.env, RESTIC_PASSWORD: TEST_PASSWORD },
          encoding: 'utf8',
        }),
      ) as { version: number };
      expect(config.version).toBe(2);
    } finally {
      await repo.cleanup();
    }
  }, 30_000);
});

describe('escapeHtml', () => {
  it('escapes the five characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
