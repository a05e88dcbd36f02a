import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLogger } from './logger';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hearth-log-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What the log file holds after `write` ran: the text an owner would attach to a bug report. */
function logged(write: (log: ReturnType<typeof createLogger>) => void): string {
  const file = join(dir, 'logs', 'hearth.log');
  const log = createLogger({ destination: file });
  write(log);
  log.flush();
  return readFileSync(file, 'utf8');
}

it('never writes a provisioning request’s passwords, however deeply they are nested', () => {
  const secrets = ['pw-top-1', 'sudo-nested-2', 'pw-deep-3', 'key-4', 'phrase-5', 'sudo-deepest-6'];
  const text = logged((log) => {
    log.info({ password: 'pw-top-1' }, 'top level');
    log.error(
      {
        channel: 'devices:provision',
        request: {
          address: '198.18.0.10',
          username: 'pi',
          password: 'pw-deep-3',
          sudoPassword: 'sudo-nested-2',
        },
      },
      'handler failed',
    );
    log.warn({ err: { cause: { privateKey: 'key-4', key: { passphrase: 'phrase-5' } } } }, 'ssh');
    log.warn({ a: { b: { c: { sudoPassword: 'sudo-deepest-6' } } } }, 'four levels down');
  });
  for (const secret of secrets) expect(text).not.toContain(secret);
  // What helps diagnosis is still there.
  expect(text).toContain('devices:provision');
  expect(text).toContain('198.18.0.10');
  expect(text).toContain('"username":"pi"');
  expect(text.match(/\[redacted\]/g)).toHaveLength(secrets.length);
});

it('redacts secrets inside a list of requests', () => {
  const text = logged((log) =>
    log.info({ batch: [{ sudoPassword: 'in-a-list' }, { password: 'also-in-a-list' }] }, 'batch'),
  );
  expect(text).not.toContain('in-a-list');
  expect(text).not.toContain('also-in-a-list');
});
