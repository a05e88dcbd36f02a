import { describe, expect, it } from 'vitest';
import { interpret, parseStatus } from './app-status';

const sample = `@app counter
ActiveState=active
SubState=running
Result=success
NRestarts=0
ExecMainStartTimestamp=@1795000000
MemoryCurrent=12582912
UnitFileState=enabled
Healthy=yes
@app web
ActiveState=failed
SubState=failed
Result=start-limit-hit
NRestarts=5
ExecMainStartTimestamp=
MemoryCurrent=[not set]
UnitFileState=enabled
`;

describe('app status from the device', () => {
  it('reads what systemd says about each app', () => {
    const [counter, web] = parseStatus(sample);
    expect(counter).toEqual({
      appId: 'counter',
      activeState: 'active',
      subState: 'running',
      result: 'success',
      restarts: 0,
      startedAt: 1795000000000,
      memoryBytes: 12582912,
      enabled: true,
      healthy: true,
      specText: '',
    });
    expect(web).toMatchObject({
      appId: 'web',
      restarts: 5,
      startedAt: null,
      memoryBytes: null,
      healthy: null,
    });
  });

  it('says running, restarting, gave up and crashed in words', () => {
    const [counter, web] = parseStatus(sample);
    expect(interpret(counter!, 'Counter', null).state).toBe('running');
    expect(interpret({ ...counter!, healthy: false }, 'Counter', null).state).toBe('starting');
    expect(
      interpret(
        { ...counter!, activeState: 'activating', subState: 'auto-restart' },
        'Counter',
        null,
      ).state,
    ).toBe('restarting');
    const gaveUp = interpret(web!, 'Web page', null);
    expect(gaveUp.state).toBe('gave-up');
    expect(gaveUp.message).toContain('stopped trying');
    expect(interpret({ ...web!, result: 'exit-code', restarts: 0 }, 'Web page', null).state).toBe(
      'crashed',
    );
    expect(interpret({ ...web!, activeState: 'inactive' }, 'Web page', null).state).toBe('stopped');
  });

  it('ignores what it does not expect from the device', () => {
    expect(
      parseStatus(
        'garbage\n@app ../../etc\nActiveState=active\n@app ok\nEvil=1\n' + 'x'.repeat(100000),
      ),
    ).toEqual([expect.objectContaining({ appId: 'ok', activeState: '' })]);
  });
});

it('calls a unit that failed after its restarts "gave up", whatever the last Result', () => {
  const [, web] = parseStatus(sample);
  expect(interpret({ ...web!, result: 'exit-code', restarts: 4 }, 'Web page', null).state).toBe(
    'gave-up',
  );
  expect(interpret({ ...web!, result: 'exit-code', restarts: 1 }, 'Web page', null).state).toBe(
    'crashed',
  );
});
