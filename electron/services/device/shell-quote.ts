// POSIX sh quoting for the generated launchers. Single quotes turn off every expansion in sh;
// the only character that needs care is the single quote itself, written as '\'' (close,
// escaped quote, reopen). Values are validated before they get here, so this is the second
// line of defence, not the first.

/** One shell word, safe for any string without NUL. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot contain NUL');
  if (/^[A-Za-z0-9_./:=,+@%-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** An argv as one line of sh, each word quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** An argv as a multi-line `exec` with one option (and its value) per line, for readable scripts. */
export function shellExec(argv: readonly string[]): string {
  const lines: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i] as string;
    const next = argv[i + 1];
    if (i > 0 && word.startsWith('-') && next !== undefined && !next.startsWith('-')) {
      lines.push(`${shellQuote(word)} ${shellQuote(next)}`);
      i += 2;
    } else {
      lines.push(shellQuote(word));
      i += 1;
    }
  }
  return `exec ${lines.join(' \\\n  ')}`;
}
