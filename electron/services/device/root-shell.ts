// Runs commands on a device as the signed-in user or, through sudo, as root. The sudo
// password is handed to `sudo -S` on stdin for each command and kept only in memory for
// the length of one provisioning run.
import { createHash, randomBytes } from 'node:crypto';
import { HearthError } from '../../../shared/errors';
import type { DeviceConnection, ExecResult } from './device-connection';
import { shellQuote } from './shell-quote';

export type SudoMode =
  { kind: 'root' } | { kind: 'passwordless' } | { kind: 'password'; password: string };

export interface RunOptions {
  stdin?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export class RemoteShell {
  readonly #connection: DeviceConnection;
  readonly #signal: AbortSignal | undefined;
  #sudo: SudoMode | null = null;

  constructor(connection: DeviceConnection, signal?: AbortSignal) {
    this.#connection = connection;
    this.#signal = signal;
  }

  get sudoMode(): SudoMode | null {
    return this.#sudo;
  }

  async run(script: string, options: RunOptions = {}): Promise<ExecResult> {
    return this.#connection.exec(`sh -c ${shellQuote(script)}`, this.#execOptions(options));
  }

  /** Like run(), but a non-zero exit becomes a HearthError naming what Hearth was doing. */
  async check(script: string, what: string, options: RunOptions = {}): Promise<string> {
    const result = await this.run(script, options);
    if (result.code !== 0) throw stepFailed(what, result);
    return result.stdout;
  }

  async asRoot(script: string, options: RunOptions = {}): Promise<ExecResult> {
    const sudo = this.#sudo;
    if (!sudo) throw new Error('asRoot() before the sudo mode is known');
    if (sudo.kind === 'root') return this.run(script, options);
    const command = `sh -c ${shellQuote(script)}`;
    if (sudo.kind === 'passwordless') {
      return this.#connection.exec(`sudo -n ${command}`, this.#execOptions(options));
    }
    const stdin = `${sudo.password}\n${options.stdin ?? ''}`;
    return this.#connection.exec(
      // -k: sudo always reads the password line, even where it cached one (a global
      // timestamp), so the line never reaches the command's own stdin.
      `sudo -k -S -p '' ${command}`,
      this.#execOptions({ ...options, stdin }),
    );
  }

  async checkAsRoot(script: string, what: string, options: RunOptions = {}): Promise<string> {
    const result = await this.asRoot(script, options);
    if (result.code !== 0) throw stepFailed(what, result);
    return result.stdout;
  }

  /** Finds out how this user becomes root; the password is tried only if needed. */
  async detectSudo(password: string | undefined): Promise<SudoMode> {
    if ((await this.run('id -u')).stdout.trim() === '0') return (this.#sudo = { kind: 'root' });
    const passwordless = await this.run('sudo -n true');
    if (passwordless.code === 0) return (this.#sudo = { kind: 'passwordless' });
    if (!password) throw new HearthError('SUDO_PASSWORD_NEEDED');
    const withPassword = await this.#connection.exec(
      `sudo -S -p '' true`,
      this.#execOptions({ stdin: `${password}\n` }),
    );
    if (withPassword.code === 0) return (this.#sudo = { kind: 'password', password });
    const said = withPassword.stderr.toLowerCase();
    if (said.includes('incorrect password') || said.includes('sorry, try again'))
      throw new HearthError(
        'SUDO_PASSWORD_NEEDED',
        'The device did not accept that password for administrator rights. Check it and try again.',
      );
    throw new HearthError('SUDO_REFUSED');
  }

  /**
   * Puts `content` at `path` as root, atomically (upload, check, rename in place), unless
   * the file already holds exactly that content with that mode and owner.
   * Returns false when nothing had to change.
   */
  async ensureFile(
    path: string,
    content: string,
    mode: string,
    owner: string,
    check?: (tmp: string) => string,
  ): Promise<boolean> {
    const wanted = createHash('sha256').update(content).digest('hex');
    const current = await this.asRoot(
      `test -f ${shellQuote(path)} && sha256sum ${shellQuote(path)} | cut -d' ' -f1 && stat -c '%a %U:%G' ${shellQuote(path)}`,
    );
    const [hash, stat] = current.stdout.trim().split('\n');
    if (current.code === 0 && hash === wanted && stat === `${mode.replace(/^0/, '')} ${owner}`)
      return false;

    const upload = await this.upload(content);
    const [user, group] = owner.split(':') as [string, string];
    const staged = `${path}.hearth-new`;
    const steps = [
      check ? check(upload) : 'true',
      `install -D -m ${mode} -o ${shellQuote(user)} -g ${shellQuote(group)} ${shellQuote(upload)} ${shellQuote(staged)}`,
      `mv -f ${shellQuote(staged)} ${shellQuote(path)}`,
    ].join(' && ');
    const result = await this.asRoot(
      `${steps}; status=$?; rm -f ${shellQuote(upload)}; exit $status`,
    );
    if (result.code !== 0) throw stepFailed(`put ${path} in place`, result);
    return true;
  }

  /**
   * Uploads `content` (as the signed-in user, mode 0600) for a root command to use, and returns
   * its path. Content never rides on stdin behind a sudo password: a sudo that did not ask for
   * the password would hand that line to the command instead.
   */
  async upload(content: string): Promise<string> {
    const path = `/tmp/hearth-upload-${randomBytes(8).toString('hex')}`;
    await this.#connection.writeFile(path, content, 0o600);
    return path;
  }

  #execOptions(options: RunOptions) {
    const signal = options.signal ?? this.#signal;
    return {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      ...(signal ? { signal } : {}),
    };
  }
}

/** A command that ran but failed: the owner gets what Hearth was doing, not raw stderr. */
export function stepFailed(what: string, result: ExecResult): HearthError {
  const said = result.stderr.toLowerCase();
  if (said.includes('no space left on device')) return new HearthError('DISK_NEARLY_FULL');
  if (said.includes('is not in the sudoers file') || said.includes('not allowed to execute'))
    return new HearthError('SUDO_REFUSED');
  return new HearthError(
    'INTERNAL',
    `The device could not ${what}. Try again; if it keeps happening, restart the device.`,
  );
}
