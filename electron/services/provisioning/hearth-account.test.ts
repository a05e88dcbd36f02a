import { describe, expect, it } from 'vitest';
import { checkHearthAccount } from './hearth-account';

const getent = (stdout: string, code = 0) => ({ code, stdout });

describe('an existing hearth account', () => {
  it('is none when getent knows no such entry', () => {
    expect(checkHearthAccount(getent('', 2))).toBeNull();
  });

  it("is Hearth's own: a system account living in /home/hearth", () => {
    expect(checkHearthAccount(getent('hearth:x:999:999::/home/hearth:/bin/sh\n'))).toEqual({
      uid: 999,
    });
  });

  it("is refused when it is a person's, root's, or lives elsewhere", () => {
    for (const line of [
      'hearth:x:1000:1000:Heather,,,:/home/hearth:/bin/bash',
      'hearth:x:65534:65534::/home/hearth:/bin/sh',
      'hearth:x:0:0::/home/hearth:/bin/sh',
      'hearth:x:120:120::/var/lib/hearth:/bin/sh',
      'hearth:x:120:120::/home/hearth/:/bin/sh',
    ])
      expect(() => checkHearthAccount(getent(line))).toThrow(
        expect.objectContaining({ code: 'HEARTH_ACCOUNT_TAKEN' }) as Error,
      );
  });

  it('says the answer is garbled rather than guessing', () => {
    for (const line of [
      'pi:x:1000:1000::/home/pi:/bin/bash',
      'hearth:x:abc:1::/home/hearth:/bin/sh',
      'hearth',
    ])
      expect(() => checkHearthAccount(getent(line))).toThrow(
        expect.objectContaining({ code: 'DEVICE_GARBLED' }) as Error,
      );
  });
});
