import type { Notification, NotificationConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertTarget } from '../../shared/model';
import { PI_ID } from '../services/alerts/alerts-test-kit';
import { FakeNotification } from './fake-electron';
import { createNotifier } from './notifier';
import type { NotifierDeps } from './notifier';
import { alert, snapshot } from './tray-test-kit';

const offline = alert({
  key: `device-offline:${PI_ID}`,
  kind: 'device-offline',
  severity: 'problem',
  message: 'Living room Pi has not answered for 2 minutes.',
  action: { label: 'See the device', target: { view: 'devices', deviceId: PI_ID } },
  appId: undefined,
});

function setup() {
  const opened: AlertTarget[] = [];
  const notifier = createNotifier(
    {
      Notification: FakeNotification as unknown as NotifierDeps['Notification'] &
        (new (o: NotificationConstructorOptions) => Notification),
    },
    { open: (target) => opened.push(target) },
  );
  return { notifier, opened, shown: () => FakeNotification.created.filter((n) => n.shown) };
}

beforeEach(() => {
  FakeNotification.created.length = 0;
  FakeNotification.supported = true;
});

describe('notifications', () => {
  it('speak up once per alert of warning or worse, not for what is only good to know', () => {
    const { notifier, shown } = setup();
    const update = alert({
      key: `update:${PI_ID}/calendar`,
      kind: 'update-available',
      severity: 'info',
      message: 'Calendar 1.1 is available.',
    });
    notifier.observe(snapshot([update]));
    notifier.observe(snapshot([offline, update]));
    notifier.observe(snapshot([{ ...offline, message: 'Still not answering.' }, update]));
    expect(shown().map((n) => n.options.body)).toEqual([
      'Living room Pi has not answered for 2 minutes.',
    ]);
  });

  it('stay quiet for a flapping device reopened with its old raisedAt, and speak for a new one', () => {
    const { notifier, shown } = setup();
    notifier.observe(snapshot([offline]));
    notifier.observe(snapshot([]));
    notifier.observe(snapshot([offline]));
    expect(shown()).toHaveLength(1);
    notifier.observe(snapshot([]));
    notifier.observe(snapshot([{ ...offline, raisedAt: offline.raisedAt + 3_600_000 }]));
    expect(shown()).toHaveLength(2);
  });

  it('speak when an alert that was good to know becomes a warning', () => {
    const { notifier, shown } = setup();
    notifier.observe(snapshot([{ ...offline, severity: 'info' }]));
    expect(shown()).toHaveLength(0);
    notifier.observe(snapshot([{ ...offline, severity: 'warning' }]));
    expect(shown()).toHaveLength(1);
  });

  it('are not repeated at start for alerts open before Hearth last stopped', () => {
    const { notifier, shown } = setup();
    notifier.seed(snapshot([offline]));
    notifier.observe(snapshot([offline, alert()]));
    expect(shown().map((n) => n.options.body)).toEqual([alert().message]);
  });

  it('open Hearth at the device or app concerned when clicked', () => {
    const { notifier, opened } = setup();
    notifier.observe(snapshot([offline, alert({ action: null })]));
    for (const n of FakeNotification.created) n.emit('click');
    expect(opened).toEqual([
      { view: 'devices', deviceId: PI_ID },
      { view: 'apps', deviceId: PI_ID, appId: 'calendar' },
    ]);
  });

  it('are taken back, without a new one, when their alert resolves', () => {
    const { notifier, shown } = setup();
    notifier.observe(snapshot([offline]));
    notifier.observe(snapshot([]));
    expect(shown()).toHaveLength(1);
    expect(FakeNotification.created[0]!.closed).toBe(true);
  });

  it('stay silent where the system has no notifications', () => {
    FakeNotification.supported = false;
    const { notifier, shown } = setup();
    notifier.observe(snapshot([offline]));
    expect(shown()).toHaveLength(0);
  });
});
