import { describe, expect, it } from 'vitest';
import { consoleLine, consoleLines } from './console-text';

describe('console text', () => {
  it('removes what SeaBIOS prints to clear the screen and turn off wrapping', () => {
    expect(consoleLine('\x1b[?7l\x1b[2JSeaBIOS (version 1.16.3)')).toBe('SeaBIOS (version 1.16.3)');
  });

  it('removes colours, cursor moves and OSC titles (ended by BEL or ST)', () => {
    expect(consoleLine('\x1b[1;32mOK\x1b[0m \x1b[10;20Hhere\x1b[K')).toBe('OK here');
    expect(consoleLine('\x1b]0;my title\x07after bel')).toBe('after bel');
    expect(consoleLine('\x1b]2;my title\x1b\\after st')).toBe('after st');
    expect(consoleLine('\x9b31mC1 CSI')).toBe('C1 CSI');
  });

  it('removes two-character escapes, charset selection and cursor save/restore included', () => {
    expect(consoleLine('\x1bMup a line')).toBe('up a line');
    expect(consoleLine('\x1b(Bplain\x1b)0')).toBe('plain');
    expect(consoleLine('\x1b7saved\x1b8')).toBe('saved');
    expect(consoleLine('\x1bcreset')).toBe('reset');
    expect(consoleLine('\x1b=keypad\x1b>')).toBe('keypad');
  });

  it('removes carriage returns, NULs, bells and backspaces, and keeps tabs', () => {
    expect(consoleLine('name\tvalue\r')).toBe('name\tvalue');
    expect(consoleLine('a\x00b\x07c\x08d\x7fe')).toBe('abcde');
  });

  it('keeps text that is not control: Unicode, brackets, a lone bracket', () => {
    expect(consoleLine('Grüße [ok] ✓ 100%')).toBe('Grüße [ok] ✓ 100%');
  });

  it('bounds a line', () => {
    expect(consoleLine('x'.repeat(5000))).toHaveLength(500);
  });

  it('splits text into lines, without an empty last line after a final newline', () => {
    expect(consoleLines('one\r\ntwo\n\nfour\n')).toEqual(['one', 'two', '', 'four']);
    expect(consoleLines('no newline')).toEqual(['no newline']);
    expect(consoleLines('')).toEqual([]);
    expect(consoleLines('\x1b[2J\n')).toEqual(['']);
  });

  it('leaves no escape or control character in any line', () => {
    const text =
      '\x1b[?25l\x1b[H\x1b[2J\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\n\x1b(0lqk\x1b(B\n';
    for (const line of consoleLines(text))
      // eslint-disable-next-line no-control-regex
      expect(line).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(consoleLines(text)).toEqual(['link', 'lqk']);
  });
});
