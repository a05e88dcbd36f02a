import { describe, expect, it } from 'vitest';
import { checkCatalogUrl, isLocalNetworkHost, urlProblem } from './catalog-url';

describe('catalog URLs', () => {
  it('knows which hosts are on this computer or the home network', () => {
    for (const host of [
      'localhost',
      '127.0.0.1',
      '127.8.9.10',
      '10.0.0.5',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.20',
      '169.254.3.4',
      '[::1]',
      '[fd12:3456::1]',
      '[fe80::1]',
      '[::ffff:192.168.1.2]',
      'living-room-pi.local',
      'nas.home.arpa',
    ])
      expect(isLocalNetworkHost(host), host).toBe(true);
    for (const host of [
      'example.com',
      '8.8.8.8',
      '172.32.0.1',
      '192.169.0.1',
      '[2001:db8::1]',
      '[::ffff:8.8.8.8]',
      'local',
      'evil.local.example.com',
      'nas',
    ])
      expect(isLocalNetworkHost(host), host).toBe(false);
  });

  it('allows https anywhere and http only at home', () => {
    expect(urlProblem('https://apps.example.com/catalog.json')).toBeNull();
    expect(urlProblem('http://192.168.1.20:8080/catalog.json')).toBeNull();
    expect(urlProblem('http://example.com/catalog.json')).toMatch(/home network/);
    expect(urlProblem('ftp://example.com/x')).toMatch(/only https/);
    expect(urlProblem('file:///etc/passwd')).toMatch(/only https/);
    expect(urlProblem('https://user:secret@example.com/')).toMatch(/password/);
    expect(urlProblem('not a url')).toMatch(/not a web address/);
    expect(urlProblem(`https://example.com/${'a'.repeat(3000)}`)).toMatch(/too long/);
  });

  it('normalises a catalog URL and refuses in a sentence', () => {
    expect(checkCatalogUrl('  HTTPS://Apps.Example.com/a/../catalog.json ')).toBe(
      'https://apps.example.com/catalog.json',
    );
    expect(() => checkCatalogUrl('http://example.com/c.json')).toThrow(
      'Hearth cannot use that catalog address: plain http: is only allowed on your home network; use https:.',
    );
  });
});
