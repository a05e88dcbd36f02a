import { describe, expect, it } from 'vitest';
import { nameDevices, passwordFor, personaSetup, personas, personasFor } from './personas';

describe('personas', () => {
  it('mixes the home by default and cycles what was asked', () => {
    expect(personasFor(4)).toEqual(['pi', 'debian', 'hearth', 'pi']);
    expect(personasFor(3, ['debian'])).toEqual(['debian', 'debian', 'debian']);
    expect(personasFor(3, ['pi', 'debian'])).toEqual(['pi', 'debian', 'pi']);
  });

  it('gives second devices of a kind their own names and hostnames', () => {
    expect(nameDevices(['pi', 'debian', 'pi'])).toEqual([
      { name: 'pi', persona: 'pi', hostname: 'raspberrypi' },
      { name: 'debian', persona: 'debian', hostname: 'debian' },
      { name: 'pi-2', persona: 'pi', hostname: 'raspberrypi-2' },
    ]);
  });

  it('pi: known password, passwordless sudo, ssh advertised', () => {
    const setup = personaSetup(personas.pi, 'raspberrypi', passwordFor(personas.pi));
    expect(passwordFor(personas.pi)).toBe('raspberry');
    expect(setup.files['/etc/hostname']?.[0]).toBe('raspberrypi\n');
    expect(setup.files['/etc/sudoers.d/010_pi-nopasswd']).toEqual([
      'pi ALL=(ALL) NOPASSWD: ALL\n',
      0o440,
    ]);
    expect(setup.files['/etc/avahi/services/ssh.service']?.[0]).toContain('<type>_ssh._tcp</type>');
    expect(setup.files['/etc/avahi/services/ssh.service']?.[0]).toContain('<port>22</port>');
    expect(setup.script).toContain('useradd --create-home --shell /bin/bash --groups sudo pi');
  });

  it('debian: a random password that sudo asks for, nothing advertised', () => {
    const password = passwordFor(personas.debian);
    expect(password).not.toBe(passwordFor(personas.debian));
    const setup = personaSetup(personas.debian, 'debian', password);
    expect(Object.keys(setup.files).some((f) => f.startsWith('/etc/sudoers.d/'))).toBe(false);
    expect(Object.keys(setup.files).some((f) => f.startsWith('/etc/avahi/services/'))).toBe(false);
    expect(setup.script).toContain(`owner:${password}`);
  });

  it('quotes passwords for the shell', () => {
    const setup = personaSetup(personas.debian, 'debian', `it's "odd" $x`);
    expect(setup.script).toContain(`'owner:it'\\''s "odd" $x'`);
  });

  it("impostor: the pi's hostname and login, avahi kept off until a spec starts it", () => {
    const setup = personaSetup(personas.impostor, 'raspberrypi', passwordFor(personas.impostor));
    expect(setup.files['/etc/hostname']?.[0]).toBe('raspberrypi\n');
    expect(passwordFor(personas.impostor)).toBe('raspberry');
    expect(Object.keys(setup.files).some((f) => f.startsWith('/etc/avahi/services/'))).toBe(false);
    expect(setup.script).toContain('ln -sf /dev/null /etc/systemd/system/avahi-daemon.service');
    expect(personasFor(3)).not.toContain('impostor');
  });
});
