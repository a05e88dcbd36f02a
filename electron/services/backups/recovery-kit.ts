// The recovery kit: the one page an owner keeps so that their backups can be opened without
// this computer, and without Hearth at all. It holds the repository password, so it is made
// only on request, never logged, and the page it renders loads nothing from anywhere.
import { randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import type { RecoveryKit } from '../../../shared/model';
import { MANIFEST_FILE, SPEC_FILE, volumeMember } from './backup-format';

/** No 0/o, 1/l/i or u/v pairs a person could misread when copying by hand. */
export const PASSWORD_ALPHABET = '23456789abcdefghjkmnpqrstwxyz';
const GROUPS = 6;
const GROUP_LENGTH = 6;

/** Bits of randomness in a password: 36 characters of a 29-letter alphabet, ~174 bits. */
export const PASSWORD_BITS = GROUPS * GROUP_LENGTH * Math.log2(PASSWORD_ALPHABET.length);

/**
 * A new repository password, e.g. `k7m2qd-...`: six groups of six, joined by dashes. restic
 * takes the whole string, dashes included, as the password; the groups are only for people.
 */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    // randomInt draws without modulo bias.
    for (let i = 0; i < GROUP_LENGTH; i++)
      group += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** Everything interpolated into the page goes through this (labels and paths are the owner's). */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A repository string as the owner types it in a shell, single-quoted. */
function shellArg(text: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface RecoveryKitInput {
  password: string;
  locations: { label: string; repository: string }[];
  createdAt: number;
  /** The apps backed up when the kit was made (the kit stays valid as apps come and go). */
  appNames: string[];
}

export async function buildRecoveryKit(input: RecoveryKitInput): Promise<RecoveryKit> {
  // Error correction M: survives a fold or a smudge on paper; the code stays small.
  const qrSvg = await QRCode.toString(input.password, {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: 2,
  });
  return {
    password: input.password,
    qrSvg,
    locations: input.locations.map((l) => ({ ...l })),
    html: renderKit(input, qrSvg),
    createdAt: input.createdAt,
  };
}

const css = `
  body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.45; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  h2 { font-size: 1.15rem; margin-top: 1.6rem; border-bottom: 1px solid #ccc; }
  .warn { border: 2px solid #b00; padding: .6rem .8rem; border-radius: .4rem; }
  .password { font-family: ui-monospace, monospace; font-size: 1.5rem; letter-spacing: .05em; padding: .5rem .7rem; border: 1px dashed #333; display: inline-block; word-break: break-all; }
  .qr { width: 11rem; height: 11rem; margin-top: .8rem; }
  .qr svg { width: 100%; height: 100%; }
  code, pre { font-family: ui-monospace, monospace; font-size: .92rem; }
  pre { background: #f3f3f3; padding: .6rem .8rem; border-radius: .3rem; white-space: pre-wrap; overflow-wrap: anywhere; }
  td, th { text-align: left; padding: .2rem .8rem .2rem 0; vertical-align: top; }
  @media print { body { margin: 0; } h2 { break-after: avoid; } }
`;

function renderKit(input: RecoveryKitInput, qrSvg: string): string {
  const e = escapeHtml;
  const created = new Date(input.createdAt).toISOString().slice(0, 10);
  const repositories = input.locations.length
    ? input.locations.map((l) => l.repository)
    : ['/path/to/backups'];
  const repo = e(shellArg(repositories[0]!));
  const listCommands = repositories.map((r) => `restic -r ${e(shellArg(r))} snapshots`);
  const locations = input.locations.length
    ? input.locations
        .map((l) => `<tr><td>${e(l.label)}</td><td><code>${e(l.repository)}</code></td></tr>`)
        .join('\n')
    : '<tr><td colspan="2">(none chosen yet)</td></tr>';
  const apps = input.appNames.length
    ? `<p>Apps backed up when this kit was made: ${input.appNames.map(e).join(', ')}.</p>`
    : '';
  // The QR code comes from the qrcode package (no script, only <svg> and <path> elements).
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hearth recovery kit</title>
<style>${css}</style>
</head>
<body>
<h1>Hearth recovery kit</h1>
<p>Made on ${e(created)}.</p>

<h2>What this is</h2>
<p>Hearth keeps encrypted backups of your apps’ data. This page holds the password that opens
them. With this page, the backups can be restored even if this computer is lost, and even
without Hearth.</p>
<p class="warn"><strong>Keep it safe and private.</strong> Anyone with this password and access
to your backups can read everything in them. Without it, nobody (not even you) can open
them: there is no way to reset it. Print it or save it somewhere only you can reach, away from
the computer and the backup drive.</p>

<h2>The password</h2>
<p class="password">${e(input.password)}</p>
<p>Type it exactly as shown, dashes included. The code below holds the same password.</p>
<div class="qr">${qrSvg}</div>

<h2>Where the backups are</h2>
<table>
<tr><th>Place</th><th>Location (for restic)</th></tr>
${locations}
</table>
${apps}

<h2>Restoring without Hearth</h2>
<p>Hearth’s backups are ordinary restic repositories. If Hearth is gone:</p>
<ol>
<li>Install restic 0.14 or newer: older ones cannot read these backups (on Debian 12 or
Ubuntu 24.04 and later: <code>sudo apt install restic</code>; for older systems, Windows and
macOS, from restic.net). <code>restic version</code> says which one you have.</li>
<li>List the backups (one command per place; restic asks for the password above):
<pre>${listCommands.join('\n')}</pre>
Each app’s backups appear under the path <code>/&lt;app&gt;.tar</code>, such as
<code>/notes.tar</code>; the host is the device the app ran on.</li>
<li>Take out the newest backup of one app:
<pre>restic -r ${repo} dump --path /notes.tar latest /notes.tar &gt; notes.tar</pre>
(with the location of the place you restore from, and the app’s path from the list; or name
a snapshot from the list instead of <code>latest</code>).</li>
<li>Unpack it: <code>tar -xf notes.tar</code>. It holds
<code>${e(volumeMember('<name>'))}</code>, one disk image per data volume of the app,
<code>${e(SPEC_FILE)}</code> (how the app was set up), the app’s image under
<code>image/</code>, and <code>${e(MANIFEST_FILE)}</code> with the sha256 of each part.</li>
</ol>
</body>
</html>
`;
}
