// Console output as the owner reads it: text, not terminal control. Unikernels and firmware
// print escape sequences (SeaBIOS clears the screen with ESC[2J and turns off wrapping with
// ESC[?7l); shown raw they become "[2J[?7l" litter. Sequences go, other control characters go,
// lines are bounded.
const MAX_LINE = 500;

// CSI (ESC [ params final), OSC (ESC ] ... BEL or ESC \), and the other escapes: ESC, any
// intermediates, one final (ECMA-35/48), such as ESC ( B (character set), ESC 7 and ESC c.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** One line of console text without escapes or control characters. */
export function consoleLine(line: string): string {
  return line.replace(ESCAPES, '').replace(CONTROL, '').slice(0, MAX_LINE);
}

/** Console output as display lines (a trailing newline makes no empty last line). */
export function consoleLines(text: string): string[] {
  return text
    .split('\n')
    .map(consoleLine)
    .filter((line, i, all) => line !== '' || i < all.length - 1);
}
