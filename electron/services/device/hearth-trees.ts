// Provisioning runs as root, but the hearth account owns its home and its state folder, and an
// attacker who has its key can plant anything there (`ln -s /usr/local/lib/hearth ~/.ssh`). Root
// must never follow such a link: every path Hearth keeps is looked at first without following
// links (stat without -L), a link or a stranger's file stops the run with a sentence, and the file
// work inside hearth's trees is done as hearth (runuser), so even a link swapped in after the
// look can only reach what hearth could reach anyway.
import { createHash } from 'node:crypto';
import { HearthError } from '../../../shared/errors';
import { HEARTH_USER } from './layout';
import { shellQuote } from './shell-quote';
import type { RemoteShell } from './root-shell';

export type PathKind = 'directory' | 'file' | 'link' | 'other' | 'absent';

export interface PathState {
  kind: PathKind;
  owner: string;
  /** Octal permission bits as stat prints them, e.g. "750". */
  mode: string;
}

/** What a path must be: absent, or of this kind and owner. */
export interface Expected {
  path: string;
  kind: 'directory' | 'file';
  owner: string;
}

/** One stat of all paths, links not followed; a missing path prints nothing. */
export function statScript(paths: readonly string[]): string {
  return `stat -c '%n|%F|%U|%a' -- ${paths.map(shellQuote).join(' ')} 2>/dev/null; true`;
}

function kindOf(type: string): PathKind {
  if (type === 'directory') return 'directory';
  if (type === 'regular file' || type === 'regular empty file') return 'file';
  if (type === 'symbolic link') return 'link';
  return 'other';
}

export function parseStat(output: string, paths: readonly string[]): Map<string, PathState> {
  const states = new Map<string, PathState>(
    paths.map((p) => [p, { kind: 'absent', owner: '', mode: '' }]),
  );
  for (const line of output.split('\n')) {
    const [name = '', type = '', owner = '', mode = ''] = line.split('|');
    if (states.has(name)) states.set(name, { kind: kindOf(type), owner, mode });
  }
  return states;
}

const described: Record<PathKind, string> = {
  directory: 'a folder',
  file: 'a file',
  link: 'a link to somewhere else',
  other: 'a special file',
  absent: 'missing',
};

/** Looks at every path once; throws DEVICE_TAMPERED naming the first that is wrong. */
export async function checkPaths(
  shell: RemoteShell,
  expected: readonly Expected[],
): Promise<Map<string, PathState>> {
  const paths = expected.map((e) => e.path);
  const states = parseStat((await shell.asRoot(statScript(paths))).stdout, paths);
  for (const e of expected) {
    const state = states.get(e.path);
    if (!state || state.kind === 'absent') continue;
    if (state.kind !== e.kind)
      throw new HearthError(
        'DEVICE_TAMPERED',
        `Hearth stopped before touching it: on this device, ${e.path} should be ${described[e.kind]}, but it is ${described[state.kind]}. Someone may have tampered with the device: check it, or reinstall it, then prepare it again.`,
      );
    if (state.owner !== e.owner)
      throw new HearthError(
        'DEVICE_TAMPERED',
        `Hearth stopped before touching it: on this device, ${e.path} belongs to the account "${state.owner}" instead of "${e.owner}". Someone may have tampered with the device: check it, or reinstall it, then prepare it again.`,
      );
  }
  return states;
}

/** A script run as the hearth account (from a root shell). */
export function asHearth(script: string): string {
  return `runuser -u ${HEARTH_USER} -- sh -c ${shellQuote(script)}`;
}

/** Makes a folder inside a hearth-owned tree, as hearth, unless it is already there as asked. */
export async function ensureHearthDir(
  shell: RemoteShell,
  path: string,
  mode: string,
  state: PathState | undefined,
): Promise<boolean> {
  if (state?.kind === 'directory' && state.mode === mode.replace(/^0/, '')) return false;
  const dir = shellQuote(path);
  const script =
    state?.kind === 'directory' ? `chmod ${mode} ${dir}` : `mkdir -m ${mode} -- ${dir}`;
  await shell.checkAsRoot(asHearth(script), `prepare ${path}`);
  return true;
}

/**
 * Puts `content` at `path` inside a hearth-owned tree, as hearth: root reads the upload (the
 * signed-in user's, in /tmp) and pipes it to the hearth account, which writes it beside the file
 * and renames it over. False when it already held exactly that.
 */
export async function ensureHearthFile(
  shell: RemoteShell,
  path: string,
  content: string,
  mode: string,
): Promise<boolean> {
  const file = shellQuote(path);
  const wanted = createHash('sha256').update(content).digest('hex');
  const current = await shell.asRoot(
    asHearth(`test -f ${file} && sha256sum ${file} | cut -d' ' -f1 && stat -c %a ${file}`),
  );
  const [hash, bits] = current.stdout.trim().split('\n');
  if (current.code === 0 && hash === wanted && bits === mode.replace(/^0/, '')) return false;
  const upload = shellQuote(await shell.upload(content));
  const staged = shellQuote(`${path}.hearth-new`);
  const write = asHearth(
    `umask 077 && cat > ${staged} && chmod ${mode} ${staged} && mv -f ${staged} ${file}`,
  );
  await shell.checkAsRoot(
    `cat -- ${upload} | ${write}; status=$?; rm -f ${upload}; exit $status`,
    `put ${path} in place`,
  );
  return true;
}
