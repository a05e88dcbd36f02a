// Hearth's application id, in one place. electron-builder makes it the macOS bundle id and
// the Windows AppUserModelID that NSIS gives Hearth's shortcuts (electron-builder.yml extends
// this file); Forge uses it as appBundleId; main.ts sets it with app.setAppUserModelId, and
// Windows shows a program's notifications only when that id is its shortcut's.
import type { Configuration } from 'electron-builder';

export const APP_ID = 'org.hearth.desktop';

/** electron-builder.yml extends this. */
export default { appId: APP_ID } satisfies Configuration;
