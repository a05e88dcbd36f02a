// DESIGN.md: every connection verifies the host key. This fails the build if any ssh2
// `.connect(` in the repo's TypeScript is made without a `hostVerifier`, either inline or
// in the config object it is given by name.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const SKIP = new Set(['node_modules', '.git', '.vite', 'out', 'dist', 'test-results']);

async function tsFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await tsFiles(path)));
    else if (/\.(c|m)?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** The text between the bracket at `open` and its partner (naive, good enough for config). */
function balanced(text: string, open: number): string {
  const pairs: Record<string, string> = { '(': ')', '{': '}' };
  const close = pairs[text[open]!]!;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === text[open]) depth++;
    else if (text[i] === close && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Line numbers of ssh2 `.connect(` calls whose config has no hostVerifier. */
export function connectsWithoutVerifier(source: string): number[] {
  if (!/from\s+['"]ssh2['"]|require\(\s*['"]ssh2['"]\s*\)/.test(source)) return [];
  const missing: number[] = [];
  for (const match of source.matchAll(/\.connect\s*\(/g)) {
    const args = balanced(source, match.index + match[0].length - 1).trim();
    let config = args;
    const named = /^([A-Za-z_$][\w$]*)$/.exec(args);
    if (named) {
      const declared = new RegExp(`\\b${named[1]}\\s*(?::[^=]+)?=\\s*\\{`).exec(source);
      config = declared ? balanced(source, declared.index + declared[0].length - 1) : '';
    }
    if (!/\bhostVerifier\b/.test(config))
      missing.push(source.slice(0, match.index).split('\n').length);
  }
  return missing;
}

describe('every ssh2 connect verifies the host key', () => {
  it('the check itself catches a connect without a verifier', () => {
    const head = "import { Client } from 'ssh2';\n";
    expect(connectsWithoutVerifier(`${head}new Client().connect({ host, password });`)).toEqual([
      2,
    ]);
    expect(connectsWithoutVerifier(`${head}const cfg = { host };\nclient.connect(cfg);`)).toEqual([
      3,
    ]);
    expect(
      connectsWithoutVerifier(`${head}client.connect({ host, hostVerifier: (k) => ok(k) });`),
    ).toEqual([]);
    expect(
      connectsWithoutVerifier(`${head}const c: X = { hostVerifier: v };\nclient.connect(c);`),
    ).toEqual([]);
    // Files that do not use ssh2 (net.connect, sockets) are not SSH connections.
    expect(
      connectsWithoutVerifier('import { connect } from "node:net";\nsocket.connect(22);'),
    ).toEqual([]);
  });

  it('holds for every TypeScript file in the repo', async () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const file of await tsFiles(root)) {
      // This file's own examples are deliberately bad.
      if (file === import.meta.filename) continue;
      const source = await readFile(file, 'utf8');
      if (/from\s+['"]ssh2['"]/.test(source)) checked++;
      for (const line of connectsWithoutVerifier(source))
        offenders.push(`${relative(root, file)}:${line}`);
    }
    expect(offenders).toEqual([]);
    // Sanity: the scan really saw the SSH code (this folder, at least).
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});
