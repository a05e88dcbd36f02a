// When an app spec fails, what the device said is the first thing anyone needs: its app
// units' journal, the consoles and the app folders, attached to the report.
import type { TestInfo } from '@playwright/test';
import type { Lab } from '../lab/fixture';

export async function attachAppsReportOnFailure(
  lab: Lab,
  testInfo: TestInfo,
  device = 'pi',
): Promise<void> {
  if (testInfo.status === testInfo.expectedStatus) return;
  const said = await lab
    .exec(device, [
      'sh',
      '-c',
      'journalctl --no-pager -n 150 -u "hearth-app@*"; tail -n 80 /var/lib/hearth/apps/*/console.log; ls -la /var/lib/hearth/apps/*',
    ])
    .catch((e: unknown) => ({ stdout: String(e), stderr: '' }));
  await testInfo.attach('device', {
    body: `${said.stdout}\n${said.stderr}`,
    contentType: 'text/plain',
  });
}
