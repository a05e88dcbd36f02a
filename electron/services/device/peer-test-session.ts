// A minimal test session for the peer-backup operations: each `# hearth:<op>` script is answered
// by a handler for that op, and every command and file write is recorded. (Test code only.)
import type { ExecResult } from '../ssh/ssh-session';
import type { PeerSession } from './peer-backups';

export interface Call {
  op: string;
  args: string[];
  script: string;
}

type Handler = (call: Call) => Partial<ExecResult> | string;

/** The tag line and script of an `sh -c '# hearth:op args\n…'` command line. */
export function parseOperation(command: string): Call {
  const m = /^sh -c '([\s\S]*)'$/.exec(command);
  if (!m) throw new Error(`not an operation: ${command}`);
  const text = (m[1] as string).replaceAll(`'\\''`, "'");
  const newline = text.indexOf('\n');
  const tag = text.slice(0, newline);
  if (!tag.startsWith('# hearth:')) throw new Error(`untagged: ${tag}`);
  const [op = '', ...args] = tag.slice('# hearth:'.length).split(' ');
  return { op, args, script: text.slice(newline + 1) };
}

export class PeerTestSession implements PeerSession {
  readonly calls: Call[] = [];
  readonly files = new Map<string, { data: string; mode: number }>();
  readonly #handlers: Record<string, Handler>;

  constructor(handlers: Record<string, Handler> = {}) {
    this.#handlers = handlers;
  }

  exec(command: string): Promise<ExecResult> {
    const call = parseOperation(command);
    this.calls.push(call);
    const handler = this.#handlers[call.op];
    const answer = handler ? handler(call) : '';
    const result = typeof answer === 'string' ? { stdout: answer } : answer;
    return Promise.resolve({ code: 0, stdout: '', stderr: '', signal: null, ...result });
  }

  writeFile(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
    this.files.set(path, { data: data.toString(), mode });
    return Promise.resolve();
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
