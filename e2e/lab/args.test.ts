import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args';

describe('parseArgs', () => {
  it('defaults up to three mixed devices', () => {
    expect(parseArgs(['up'])).toEqual({ cmd: 'up', devices: 3, personas: [], reuse: false });
  });

  it('reads --devices and a persona list, with or without =', () => {
    expect(parseArgs(['up', '--devices', '4', '--persona', 'pi,debian'])).toEqual({
      cmd: 'up',
      devices: 4,
      personas: ['pi', 'debian'],
      reuse: false,
    });
    expect(parseArgs(['up', '--devices=2', '--persona=hearth', '--reuse'])).toMatchObject({
      devices: 2,
      personas: ['hearth'],
      reuse: true,
    });
  });

  it('refuses unknown personas and silly device counts', () => {
    expect(() => parseArgs(['up', '--persona', 'windows'])).toThrow(UsageError);
    expect(() => parseArgs(['up', '--devices', '0'])).toThrow(/--devices/);
    expect(() => parseArgs(['up', '--devices', 'two'])).toThrow(/--devices/);
    expect(() => parseArgs(['up', '--devices'])).toThrow(/needs a value/);
  });

  it('keeps everything after -- verbatim for exec and laptop', () => {
    expect(parseArgs(['exec', 'pi', '--', 'sh', '-c', 'echo --json'])).toEqual({
      cmd: 'exec',
      device: 'pi',
      argv: ['sh', '-c', 'echo --json'],
    });
    expect(parseArgs(['laptop', '--', 'ip', 'addr'])).toEqual({
      cmd: 'laptop',
      argv: ['ip', 'addr'],
    });
    expect(() => parseArgs(['exec', 'pi'])).toThrow(/missing CMD/);
    expect(() => parseArgs(['laptop', 'ip'])).toThrow(/after --/);
  });

  it('parses device commands and shape', () => {
    for (const cmd of ['cut', 'heal', 'poweroff', 'boot', 'unshape'] as const) {
      expect(parseArgs([cmd, 'debian'])).toEqual({ cmd, device: 'debian' });
    }
    expect(() => parseArgs(['cut'])).toThrow(/one DEVICE/);
    expect(parseArgs(['shape', 'pi', '300mbit', '5ms'])).toEqual({
      cmd: 'shape',
      device: 'pi',
      rate: '300mbit',
      delay: '5ms',
    });
    expect(parseArgs(['shape', 'pi', '1gbit'])).toEqual({
      cmd: 'shape',
      device: 'pi',
      rate: '1gbit',
    });
    expect(() => parseArgs(['shape', 'pi', 'fast'])).toThrow(/rate/);
    expect(() => parseArgs(['shape', 'pi', '1gbit', 'soon'])).toThrow(/delay/);
  });

  it('parses status, down, build and help', () => {
    expect(parseArgs(['status', '--json'])).toEqual({ cmd: 'status', json: true });
    expect(parseArgs(['status'])).toEqual({ cmd: 'status', json: false });
    expect(parseArgs(['down'])).toEqual({ cmd: 'down' });
    expect(parseArgs(['build'])).toEqual({ cmd: 'build' });
    expect(parseArgs([])).toEqual({ cmd: 'help' });
    expect(() => parseArgs(['status', '--yaml'])).toThrow(/unknown option/);
    expect(() => parseArgs(['dance'])).toThrow(/unknown command/);
  });
});
