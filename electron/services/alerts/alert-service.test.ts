import { afterEach, describe, expect, it } from 'vitest';
import type { AlertKind, AlertSeverity, AlertTarget } from '../../../shared/model';
import type { AlertHarness } from './alerts-test-kit';
import { PI_ID, alertHarness, app, backup, device, update } from './alerts-test-kit';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const hostKeyChanged = Object.assign(new Error('identity changed'), { code: 'HOST_KEY_CHANGED' });
const timedOut = Object.assign(new Error('timed out'), { code: 'DEVICE_UNREACHABLE' });

let harness: AlertHarness | null = null;
afterEach(async () => {
  await harness?.dispose();
  harness = null;
});
async function start(options: Parameters<typeof alertHarness>[0] = {}): Promise<AlertHarness> {
  harness = await alertHarness(options);
  return harness;
}

/** Everything well and known: one device that answers, running Calendar. */
async function allWell(h: AlertHarness): Promise<void> {
  await h.service.observeDevices([device()]);
  h.service.reach.answered(PI_ID);
  await h.service.observeApps([app()]);
  await h.service.observeBackups([backup({ lastBackupAt: h.now() })]);
  await h.service.observeUpdates([update()]);
}

interface Scenario {
  kind: AlertKind;
  key: string;
  severity: AlertSeverity;
  message: string;
  resolved: string;
  /** The one action that fixes it: its button's words, and where it takes the owner. */
  label: string;
  target: AlertTarget;
  raise: (h: AlertHarness) => Promise<void>;
  clear: (h: AlertHarness) => Promise<void>;
}

const onPi = { deviceId: PI_ID };
const calendar = { deviceId: PI_ID, appId: 'calendar' };

const scenarios: Scenario[] = [
  {
    kind: 'device-offline',
    key: `device-offline:${PI_ID}`,
    severity: 'problem',
    message: 'Living room Pi is not answering, so Hearth cannot look after its apps.',
    resolved: 'Living room Pi is back online.',
    label: 'Show the device',
    target: { view: 'devices', ...onPi },
    raise: async (h) => {
      h.service.reach.failed(PI_ID, timedOut);
      h.advance(2 * MIN + 1);
      await h.service.evaluate();
    },
    clear: async (h) => h.service.reach.answered(PI_ID),
  },
  {
    kind: 'device-identity-changed',
    key: `device-identity:${PI_ID}`,
    severity: 'problem',
    message: 'Living room Pi answered with a different identity than the one Hearth knows',
    resolved: 'Living room Pi has its own identity again.',
    label: 'Show the device',
    target: { view: 'devices', ...onPi },
    raise: async (h) => h.service.reach.failed(PI_ID, hostKeyChanged),
    clear: async (h) => h.service.reach.answered(PI_ID),
  },
  {
    kind: 'device-disk-full',
    key: `device-disk:${PI_ID}`,
    severity: 'warning',
    message: "Living room Pi's disk is 93% full.",
    resolved: "Living room Pi's disk has room again.",
    label: 'Show the device',
    target: { view: 'devices', ...onPi },
    raise: (h) => h.service.observeDisk(PI_ID, { usedBytes: 93, totalBytes: 100 }),
    clear: (h) => h.service.observeDisk(PI_ID, { usedBytes: 50, totalBytes: 100 }),
  },
  {
    kind: 'device-needs-preparing',
    key: `device-needs-preparing:${PI_ID}`,
    severity: 'warning',
    message:
      'Living room Pi was prepared by an older Hearth, so some of what this Hearth does cannot work there yet.',
    resolved: 'Living room Pi is prepared by this Hearth now.',
    label: 'Prepare it again',
    target: { view: 'devices', ...onPi, show: 'prepare-again' },
    raise: (h) => h.service.observeDevices([device({ needsPreparing: true })]),
    clear: (h) => h.service.observeDevices([device({ needsPreparing: false })]),
  },
  {
    kind: 'app-crashed',
    key: `app:${PI_ID}/calendar`,
    severity: 'warning',
    message: 'Calendar on Living room Pi stopped unexpectedly.',
    resolved: 'Calendar on Living room Pi is no longer failing.',
    label: "Open Calendar's console",
    target: { view: 'apps', ...calendar, show: 'console' },
    raise: (h) => h.service.observeApps([app({ state: 'crashed', restarts: 1 })]),
    clear: (h) => h.service.observeApps([app()]),
  },
  {
    kind: 'app-restarting',
    key: `app:${PI_ID}/calendar`,
    severity: 'warning',
    message: 'Calendar on Living room Pi keeps stopping and being restarted (3 times so far).',
    resolved: 'Calendar on Living room Pi is no longer failing.',
    label: "Open Calendar's console",
    target: { view: 'apps', ...calendar, show: 'console' },
    raise: (h) => h.service.observeApps([app({ state: 'restarting', restarts: 3 })]),
    clear: (h) => h.service.observeApps([app()]),
  },
  {
    kind: 'app-gave-up',
    key: `app:${PI_ID}/calendar`,
    severity: 'problem',
    message: 'Calendar on Living room Pi kept stopping right after it started',
    resolved: 'Calendar on Living room Pi is no longer failing.',
    label: "Open Calendar's console",
    target: { view: 'apps', ...calendar, show: 'console' },
    raise: (h) => h.service.observeApps([app({ state: 'gave-up', restarts: 4 })]),
    clear: (h) => h.service.observeApps([app()]),
  },
  {
    kind: 'backup-failed',
    key: `backup:${PI_ID}/calendar`,
    severity: 'warning',
    message: 'The last backup of Calendar on Living room Pi failed: The backup folder is missing.',
    resolved: 'Calendar on Living room Pi is backed up again.',
    label: 'Open backups',
    target: { view: 'backups', ...calendar },
    raise: (h) =>
      h.service.observeBackups([
        backup({ lastBackupAt: h.now(), lastError: 'The backup folder is missing.' }),
      ]),
    clear: (h) => h.service.observeBackups([backup({ lastBackupAt: h.now() })]),
  },
  {
    kind: 'backup-overdue',
    key: `backup:${PI_ID}/calendar`,
    severity: 'warning',
    message: 'Calendar on Living room Pi has had no backup for 3 days.',
    resolved: 'Calendar on Living room Pi is backed up again.',
    label: 'Open backups',
    target: { view: 'backups', ...calendar },
    raise: (h) =>
      h.service.observeBackups([backup({ lastBackupAt: h.now() - 3 * DAY, overdue: true })]),
    clear: (h) => h.service.observeBackups([backup({ lastBackupAt: h.now() })]),
  },
  {
    kind: 'drill-failed',
    key: `drill:${PI_ID}/calendar`,
    severity: 'problem',
    message: 'A test restore of Calendar on Living room Pi did not work',
    resolved: 'A test restore of Calendar on Living room Pi worked.',
    label: 'Open backups',
    target: { view: 'backups', ...calendar },
    raise: (h) =>
      h.service.observeBackups([
        backup({
          lastBackupAt: h.now(),
          lastDrill: { at: h.now(), ok: false, message: 'It did not start.' },
        }),
      ]),
    clear: (h) =>
      h.service.observeBackups([
        backup({ lastBackupAt: h.now(), lastDrill: { at: h.now(), ok: true, message: null } }),
      ]),
  },
  {
    kind: 'update-available',
    key: `update:${PI_ID}/calendar`,
    severity: 'info',
    message: 'Version 2.0.0 of Calendar on Living room Pi is available.',
    resolved: 'Calendar on Living room Pi is up to date.',
    label: 'See the update',
    target: { view: 'apps', ...calendar },
    raise: (h) =>
      h.service.observeUpdates([update({ available: { version: '2.0.0', releaseNotes: '' } })]),
    clear: (h) => h.service.observeUpdates([update({ installedVersion: '2.0.0' })]),
  },
  {
    kind: 'update-rolled-back',
    key: `rolled-back:${PI_ID}/calendar`,
    severity: 'warning',
    message: 'Calendar 2.0.0 did not start, so Hearth went back to 1.0.0. Nothing was lost.',
    resolved: 'Calendar on Living room Pi has been updated since its update was rolled back.',
    label: 'Open the app',
    target: { view: 'apps', ...calendar },
    raise: (h) =>
      h.service.observeUpdates([
        update({
          lastOutcome: {
            at: h.now(),
            kind: 'rolled-back',
            message:
              'Calendar 2.0.0 did not start, so Hearth went back to 1.0.0. Nothing was lost.',
          },
        }),
      ]),
    clear: (h) =>
      h.service.observeUpdates([
        update({
          installedVersion: '2.0.1',
          lastOutcome: { at: h.now(), kind: 'updated', message: 'Calendar is now 2.0.1.' },
        }),
      ]),
  },
];

describe.each(scenarios)('the $kind alert', (s) => {
  it('is raised once with its sentence and action, and stays one alert while it holds', async () => {
    const h = await start();
    await allWell(h);
    expect((await h.service.list()).open).toEqual([]);

    await s.raise(h);
    const { open } = await h.service.list();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      key: s.key,
      kind: s.kind,
      severity: s.severity,
      resolvedAt: null,
    });
    expect(open[0]!.message).toContain(s.message);
    expect(open[0]!.action).toEqual({ label: s.label, target: s.target });
    const raisedAt = open[0]!.raisedAt;

    // The same observation again, later: no second alert, nothing new published.
    const publishedBefore = h.published.length;
    h.advance(MIN);
    await s.raise(h);
    await h.service.evaluate();
    const again = await h.service.list();
    expect(again.open.map((a) => [a.key, a.raisedAt])).toEqual([[s.key, raisedAt]]);
    expect(h.published.length).toBe(publishedBefore);
  });

  it('survives a restart of Hearth without being raised again, then resolves quietly', async () => {
    const h = await start();
    await allWell(h);
    await s.raise(h);
    const raisedAt = (await h.service.list()).open[0]!.raisedAt;

    h.advance(5 * MIN);
    const after = h.restart();
    // Before anything is observed, the open alert is there as it was, action and all.
    const kept = (await after.service.list()).open;
    expect(kept.map((a) => [a.key, a.raisedAt])).toEqual([[s.key, raisedAt]]);
    expect(kept[0]!.action).toEqual({ label: s.label, target: s.target });
    await allWell(after);
    await s.raise(after);
    expect((await after.service.list()).open.map((a) => [a.key, a.raisedAt])).toEqual([
      [s.key, raisedAt],
    ]);

    await s.clear(after);
    // Not yet: a condition must stay away a minute before its alert is called resolved.
    after.advance(MIN - 1_000);
    await after.service.evaluate();
    expect((await after.service.list()).open).toHaveLength(1);
    after.advance(1_000);
    await after.service.evaluate();
    const { open, history } = await after.service.list();
    expect(open).toEqual([]);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      key: s.key,
      severity: 'info',
      message: s.resolved,
      action: null,
      raisedAt,
    });
    expect(history[0]!.resolvedAt).toBe(after.now());
    expect((await after.restart().service.list()).history[0]?.message).toBe(s.resolved);
  });
});

describe('AlertService', () => {
  it('calls a device offline only after it has not answered for two minutes', async () => {
    const h = await start();
    await allWell(h);
    h.service.reach.failed(PI_ID, timedOut);
    h.advance(2 * MIN - 1_000);
    await h.service.evaluate();
    expect((await h.service.list()).open).toEqual([]);
    h.advance(2_000);
    await h.service.evaluate();
    expect((await h.service.list()).open.map((a) => a.kind)).toEqual(['device-offline']);
  });

  it('takes the offline threshold as an option (the e2e specs use seconds)', async () => {
    const h = await start({ policy: { offlineAfterMs: 5_000 } });
    await allWell(h);
    h.service.reach.failed(PI_ID, timedOut);
    h.advance(6_000);
    await h.service.evaluate();
    expect((await h.service.list()).open.map((a) => a.kind)).toEqual(['device-offline']);
  });

  it('keeps one alert for a flapping device, and reopens it quietly when it comes back soon', async () => {
    const h = await start();
    await allWell(h);
    h.service.reach.failed(PI_ID, timedOut);
    h.advance(3 * MIN);
    await h.service.evaluate();
    const raisedAt = (await h.service.list()).open[0]!.raisedAt;

    // Up for 20 s, down for 40 s, ten times: never settled long enough to call it back.
    for (let i = 0; i < 10; i++) {
      h.service.reach.answered(PI_ID);
      h.advance(20_000);
      await h.service.evaluate();
      h.service.reach.failed(PI_ID, timedOut);
      h.advance(40_000);
      await h.service.evaluate();
    }
    let list = await h.service.list();
    expect(list.open.map((a) => [a.kind, a.raisedAt])).toEqual([['device-offline', raisedAt]]);
    expect(list.history).toEqual([]);

    // Back long enough to resolve, then gone again within the half hour: the same alert reopens.
    h.service.reach.answered(PI_ID);
    h.advance(2 * MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open).toEqual([]);
    h.service.reach.failed(PI_ID, timedOut);
    h.advance(3 * MIN);
    await h.service.evaluate();
    list = await h.service.list();
    expect(list.open.map((a) => [a.kind, a.raisedAt])).toEqual([['device-offline', raisedAt]]);
    expect(list.history).toEqual([]);

    // Much later it is a new occurrence: raised afresh.
    h.service.reach.answered(PI_ID);
    h.advance(2 * MIN);
    await h.service.evaluate();
    h.advance(60 * MIN);
    h.service.reach.failed(PI_ID, timedOut);
    h.advance(3 * MIN);
    await h.service.evaluate();
    list = await h.service.list();
    expect(list.open[0]!.raisedAt).toBe(h.now());
    expect(list.history.map((a) => a.message)).toEqual(['Living room Pi is back online.']);
  });

  it('says "no backup for N days" in one alert, not one per failed attempt', async () => {
    const h = await start();
    await allWell(h);
    const lastBackupAt = h.now();
    for (let day = 1; day <= 4; day++) {
      h.advance(DAY);
      await h.service.observeBackups([
        backup({
          lastBackupAt,
          overdue: day >= 2,
          lastError: `The backup folder is missing (attempt ${day}).`,
        }),
      ]);
    }
    const { open } = await h.service.list();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ kind: 'backup-overdue', raisedAt: lastBackupAt + DAY });
    expect(open[0]!.message).toBe(
      'Calendar on Living room Pi has had no backup for 4 days. The last attempt failed: ' +
        'The backup folder is missing (attempt 4).',
    );
  });

  it('raises the disk alert above 90% and clears it only below 88%', async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeDisk(PI_ID, { usedBytes: 89, totalBytes: 100 });
    expect((await h.service.list()).open).toEqual([]);
    await h.service.observeDisk(PI_ID, { usedBytes: 91, totalBytes: 100 });
    await h.service.observeDisk(PI_ID, { usedBytes: 89, totalBytes: 100 });
    h.advance(5 * MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open.map((a) => a.message)).toEqual([
      expect.stringContaining("Living room Pi's disk is 89% full."),
    ]);
    await h.service.observeDisk(PI_ID, { usedBytes: 87, totalBytes: 100 });
    h.advance(MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open).toEqual([]);
  });

  it('raises nothing for an app that sleeps when idle, and calls a crashed one fixed once it sleeps', async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app({ state: 'sleeping' })]);
    expect((await h.service.list()).open).toEqual([]);
    await h.service.observeApps([app({ state: 'crashed', restarts: 1 })]);
    await h.service.observeApps([app({ state: 'sleeping' })]);
    h.advance(10 * MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open).toEqual([]);
  });

  it('escalates an app in place (crashed, then gave up) under one key', async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app({ state: 'crashed', restarts: 1 })]);
    const raisedAt = (await h.service.list()).open[0]!.raisedAt;
    h.advance(MIN);
    await h.service.observeApps([app({ state: 'gave-up', restarts: 4 })]);
    expect((await h.service.list()).open.map((a) => [a.kind, a.severity, a.raisedAt])).toEqual([
      ['app-gave-up', 'problem', raisedAt],
    ]);
  });

  it("does not call an offline device's failing app fixed, nor raise one for its apps", async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app({ state: 'crashed' })]);
    h.service.reach.failed(PI_ID, timedOut);
    await h.service.observeApps([app({ state: 'offline' })]);
    h.advance(10 * MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open.map((a) => a.kind).sort()).toEqual([
      'app-crashed',
      'device-offline',
    ]);
  });

  it('keeps alerts open after a restart until their lists are heard of again', async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app({ state: 'gave-up', restarts: 4 })]);
    await h.service.observeBackups([backup({ lastError: 'The backup folder is missing.' })]);
    const after = h.restart();
    await after.service.observeDevices([device()]);
    after.advance(30 * MIN);
    await after.service.evaluate();
    expect((await after.service.list()).open.map((a) => a.kind).sort()).toEqual([
      'app-gave-up',
      'backup-failed',
    ]);
  });

  it('resolves the alerts of an app removed from a device that answers', async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app({ state: 'gave-up', restarts: 4 })]);
    await h.service.observeBackups([backup({ lastError: 'The backup folder is missing.' })]);
    await h.service.observeApps([]);
    await h.service.observeBackups([]);
    h.advance(MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open).toEqual([]);
  });

  it("resolves a forgotten device's alerts", async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app({ state: 'gave-up', restarts: 4 })]);
    await h.service.observeDisk(PI_ID, { usedBytes: 95, totalBytes: 100 });
    await h.service.observeDevices([]);
    await h.service.observeApps([]);
    h.advance(MIN);
    await h.service.evaluate();
    const { open, history } = await h.service.list();
    expect(open).toEqual([]);
    expect(history).toHaveLength(2);
  });

  it('ends a rollback notice after three days even when no later update comes', async () => {
    const h = await start();
    await allWell(h);
    const rolledBack = update({
      lastOutcome: { at: h.now(), kind: 'rolled-back', message: 'Calendar went back to 1.0.0.' },
    });
    await h.service.observeUpdates([rolledBack]);
    h.advance(3 * DAY - MIN);
    await h.service.observeUpdates([rolledBack]);
    expect((await h.service.list()).open.map((a) => a.kind)).toEqual(['update-rolled-back']);
    h.advance(2 * MIN);
    await h.service.observeUpdates([rolledBack]);
    h.advance(MIN);
    await h.service.evaluate();
    expect((await h.service.list()).open).toEqual([]);
  });

  it('gives the tray its overall state and a one-line summary', async () => {
    const h = await start();
    await allWell(h);
    await h.service.observeApps([app(), app({ appId: 'notes', name: 'Notes', state: 'stopped' })]);
    let list = await h.service.list();
    expect([list.overall, list.summary]).toEqual(['all-well', '1 device, 1 app running']);

    await h.service.observeUpdates([update({ available: { version: '2.0.0', releaseNotes: '' } })]);
    expect((await h.service.list()).overall).toBe('all-well');
    await h.service.observeDisk(PI_ID, { usedBytes: 95, totalBytes: 100 });
    expect((await h.service.list()).overall).toBe('needs-attention');
    await h.service.observeApps([app({ state: 'gave-up', restarts: 4 })]);
    list = await h.service.list();
    expect(list.overall).toBe('problem');
    expect(list.summary).toBe('1 device, 0 apps running');
    // Worst first.
    expect(list.open.map((a) => a.severity)).toEqual(['problem', 'warning', 'info']);
    expect(h.published.at(-1)).toEqual(list);
  });
});
