import { describe, expect, it } from 'vitest';
import { isPublishedDeviceLink } from './device-links';

const pi = { id: 'dev-pi', addresses: ['192.168.1.23'], hostname: 'raspberrypi' };
const nas = { id: 'dev-nas', addresses: ['192.168.1.40'], hostname: 'nas' };
const counter = (url: string, deviceId = pi.id) => ({
  deviceId,
  links: [{ name: 'web', url }],
});

describe('which http links may leave the app', () => {
  it('opens an app’s published link on its device’s address or .local name', () => {
    const apps = [counter('http://192.168.1.23:8080/'), counter('http://raspberrypi.local:8081/')];
    expect(isPublishedDeviceLink('http://192.168.1.23:8080/', apps, [pi])).toBe(true);
    expect(isPublishedDeviceLink('http://raspberrypi.local:8081/', apps, [pi])).toBe(true);
    // As Chromium hands it over: host case and a default port normalised.
    const upper = [counter('http://RaspberryPi.local:80/notes/')];
    expect(isPublishedDeviceLink('http://raspberrypi.local/notes/', upper, [pi])).toBe(true);
  });

  it('refuses a link no app publishes, on another port, path or device', () => {
    const apps = [counter('http://192.168.1.23:8080/')];
    for (const url of [
      'http://192.168.1.23:8081/', // another port on the device
      'http://192.168.1.23:8080/admin', // another path
      'http://192.168.1.24:8080/', // the address next door
      'http://evil.example:8080/',
      'http://192.168.1.40:8080/', // the owner's other device, where no such app runs
      'http://user:pw@192.168.1.23:8080/',
      'file:///etc/passwd',
      'not a url',
    ])
      expect(isPublishedDeviceLink(url, apps, [pi, nas]), url).toBe(false);
  });

  it('refuses a published link whose host is not its device (a device cannot point elsewhere)', () => {
    // A device that reported an app link to some other host: the link exists, the host is wrong.
    const apps = [counter('http://evil.example:8080/'), counter('http://192.168.1.40:8080/')];
    expect(isPublishedDeviceLink('http://evil.example:8080/', apps, [pi, nas])).toBe(false);
    expect(isPublishedDeviceLink('http://192.168.1.40:8080/', apps, [pi, nas])).toBe(false);
    // ...nor a .local name that is not the device's own.
    const other = [counter('http://nas.local:8080/')];
    expect(isPublishedDeviceLink('http://nas.local:8080/', other, [pi, nas])).toBe(false);
  });

  it('refuses the links of a device Hearth no longer looks after', () => {
    const apps = [counter('http://192.168.1.23:8080/')];
    expect(isPublishedDeviceLink('http://192.168.1.23:8080/', apps, [nas])).toBe(false);
  });

  it('accepts an IPv6 address in brackets', () => {
    const v6 = { id: 'dev-v6', addresses: ['fd00::23'], hostname: 'pi6' };
    const apps = [counter('http://[fd00::23]:8080/', v6.id)];
    expect(isPublishedDeviceLink('http://[fd00::23]:8080/', apps, [v6])).toBe(true);
  });
});
