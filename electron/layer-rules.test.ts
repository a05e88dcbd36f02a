// The layer rules of DESIGN.md are enforced by lint; this proves the lint config really
// rejects each forbidden import (and accepts the allowed ones), so a config change that
// silently drops a rule fails the build.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
// Type-aware rules need files on disk; the import rules under test do not.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: [
    tseslint.configs.disableTypeChecked,
    { languageOptions: { parserOptions: { projectService: false } } },
  ],
});

async function importErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('layer rules', () => {
  it('services never import electron, the shell or IPC', async () => {
    expect(
      await importErrors(
        'electron/services/probe.ts',
        "import { app } from 'electron';\nexport const a = app;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'electron/services/tasks/probe.ts',
        "import { x } from '../../shell/window';\nexport const a = x;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'electron/services/probe.ts',
        "import { readFile } from 'node:fs/promises';\nexport const a = readFile;\n",
      ),
    ).toEqual([]);
  });

  it('shared imports nothing of ours outside shared, and no Node', async () => {
    expect(
      await importErrors(
        'shared/probe.ts',
        "import { x } from '../electron/app-services';\nexport const a = x;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'shared/probe.ts',
        "import { x } from '../renderer/src/main';\nexport const a = x;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'shared/probe.ts',
        "import { readFile } from 'node:fs';\nexport const a = readFile;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'shared/probe.ts',
        "import { z } from 'zod';\nimport { errorMessages } from './errors';\nexport const a = [z, errorMessages];\n",
      ),
    ).toEqual([]);
  });

  it('the renderer reaches neither Node nor Electron nor main’s code', async () => {
    expect(
      await importErrors(
        'renderer/src/probe.ts',
        "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'renderer/src/probe.ts',
        "import { x } from '../../electron/app-services';\nexport const a = x;\n",
      ),
    ).toHaveLength(1);
    expect(
      await importErrors(
        'renderer/src/probe.ts',
        "import { readFile } from 'node:fs';\nexport const a = readFile;\n",
      ),
    ).toHaveLength(1);
  });
});
