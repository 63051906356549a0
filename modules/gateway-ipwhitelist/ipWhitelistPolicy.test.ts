import { describe, expect, it } from '@jest/globals';
import type { IncomingHttpHeaders } from 'node:http';
import { AccessPolicy } from './AccessPolicy.js';
import { addressListFormat, AddressSet, entriesOf, parseEntry } from './addressEntries.js';
import { forwardedHops, normalizeAddress, type ForwardedHeaderName } from './clientAddress.js';

const policy = (allow: string[], trusted: string[] = [], header: ForwardedHeaderName = 'x-forwarded-for') => new AccessPolicy(new AddressSet(allow), new AddressSet(trusted), header);

describe('ipwhitelist decisions', () => {
  it('matches IPv4 addresses and ranges, IPv6 addresses and ranges, and IPv4-mapped IPv6 both ways', () => {
    const allow = new AddressSet(['192.0.2.7', '10.0.0.0/8', '172.16.0.0/12', '2001:db8::1', '2001:db8:1::/48', '::ffff:198.51.100.0/120']);
    const cases: [string, boolean][] = [
      ['192.0.2.7', true],
      ['192.0.2.8', false],
      ['10.0.0.0', true],
      ['10.255.255.255', true],
      ['11.0.0.0', false],
      ['172.31.255.255', true],
      ['172.32.0.0', false],
      ['2001:db8::1', true],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', true],
      ['2001:DB8::1', true],
      ['2001:db8::2', false],
      ['2001:db8:1:ffff::9', true],
      ['2001:db8:2::1', false],
      ['::ffff:10.1.2.3', true],
      ['::ffff:a01:203', true],
      ['::ffff:192.0.2.7', true],
      ['198.51.100.200', true],
      ['198.51.101.1', false],
      ['::10.1.2.3', false],
      ['not-an-ip', false],
      ['', false],
    ];
    expect(cases.map(([address]) => [address, allow.has(address)])).toEqual(cases);
    const everyone = new AddressSet(['0.0.0.0/0', '::/0']);
    expect(['8.8.8.8', '2606:4700::1111', '::1'].map((address) => everyone.has(address))).toEqual([true, true, true]);
  });

  it('normalises addresses as sockets and forwarding headers write them', () => {
    const cases: [string, string | undefined][] = [
      ['127.0.0.1', '127.0.0.1'],
      ['::ffff:127.0.0.1', '127.0.0.1'],
      ['::FFFF:7f00:1', '127.0.0.1'],
      ['0:0:0:0:0:ffff:10.0.0.1', '10.0.0.1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['[2001:db8::1]:4711', '2001:db8::1'],
      ['"[2001:db8::17]:4711"', '2001:db8::17'],
      ['203.0.113.9:51234', '203.0.113.9'],
      ['fe80::1%eth0', 'fe80::1'],
      [' 198.51.100.1 ', '198.51.100.1'],
      ['unknown', undefined],
      ['_hidden', undefined],
      ['[2001:db8::1', undefined],
      ['010.0.0.1', undefined],
      ['', undefined],
    ];
    expect(cases.map(([text]) => [text, normalizeAddress(text)])).toEqual(cases);
  });

  it('reads X-Forwarded-For and Forwarded hops from left to right', () => {
    expect(forwardedHops({ 'x-forwarded-for': '203.0.113.9, 10.0.0.2,10.0.0.3' }, 'x-forwarded-for')).toEqual(['203.0.113.9', '10.0.0.2', '10.0.0.3']);
    const forwarded = 'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", proto=https, for=unknown';
    expect(forwardedHops({ forwarded }, 'forwarded')).toEqual(['192.0.2.60', '"[2001:db8:cafe::17]:4711"', 'unknown']);
    expect(forwardedHops({}, 'forwarded')).toEqual([]);
  });

  it('uses the socket address unless the peer is a trusted proxy', () => {
    const allow = policy(['203.0.113.0/24'], ['10.0.0.0/8']);
    expect(allow.decide('198.51.100.1', { 'x-forwarded-for': '203.0.113.5' })).toEqual({ allowed: false, client: '198.51.100.1' });
    expect(allow.decide('203.0.113.5', {})).toEqual({ allowed: true, client: '203.0.113.5' });
    expect(policy(['203.0.113.0/24']).decide('10.0.0.1', { 'x-forwarded-for': '203.0.113.5' })).toEqual({ allowed: false, client: '10.0.0.1' });
  });

  it('takes the right-most forwarded address that is not a trusted proxy', () => {
    const allow = policy(['203.0.113.0/24'], ['10.0.0.0/8', '2001:db8:ffff::/48']);
    const decide = (headers: IncomingHttpHeaders, peer = '10.0.0.1') => allow.decide(peer, headers);
    expect(decide({ 'x-forwarded-for': '203.0.113.5' })).toEqual({ allowed: true, client: '203.0.113.5', via: '10.0.0.1' });
    // The client wrote the left-most entry itself; the proxies appended the rest.
    expect(decide({ 'x-forwarded-for': '203.0.113.5, 198.51.100.1, 10.0.0.7' })).toEqual({ allowed: false, client: '198.51.100.1', via: '10.0.0.1' });
    expect(decide({ 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 10.0.0.7' })).toEqual({ allowed: true, client: '203.0.113.5', via: '10.0.0.1' });
    expect(decide({ 'x-forwarded-for': ['198.51.100.1', '203.0.113.5:4000'] })).toEqual({ allowed: true, client: '203.0.113.5', via: '10.0.0.1' });
    expect(decide({ 'x-forwarded-for': '203.0.113.5, [2001:db8:ffff::3]:443' }, '::ffff:10.0.0.1')).toEqual({ allowed: true, client: '203.0.113.5', via: '10.0.0.1' });
    // Every hop a trusted proxy: the request comes from the left-most one.
    expect(decide({ 'x-forwarded-for': '10.0.0.9, 10.0.0.7' })).toEqual({ allowed: false, client: '10.0.0.9', via: '10.0.0.1' });
    expect(decide({})).toEqual({ allowed: false, client: '10.0.0.1' });
    // Something that is not an address where the client should be: refused, and named as found.
    expect(decide({ 'x-forwarded-for': '203.0.113.5, garbage' })).toEqual({ allowed: false, client: 'garbage', via: '10.0.0.1' });
  });

  it('reads only the header chosen, so a client cannot forge the other one', () => {
    const viaXff = policy(['203.0.113.0/24'], ['10.0.0.1']);
    const viaForwarded = policy(['203.0.113.0/24'], ['10.0.0.1'], 'forwarded');
    const forged = { forwarded: 'for=203.0.113.5', 'x-forwarded-for': '198.51.100.1' };
    expect(viaXff.decide('10.0.0.1', forged)).toMatchObject({ allowed: false, client: '198.51.100.1' });
    expect(viaForwarded.decide('10.0.0.1', { ...forged, forwarded: 'for=198.51.100.1, for="[2001:db8::5]", for=203.0.113.5;proto=https' })).toMatchObject({ allowed: true, client: '203.0.113.5' });
  });

  it('refuses a request whose socket address is unknown (go-micro let it through)', () => {
    expect(policy(['0.0.0.0/0', '::/0']).decide('', {})).toEqual({ allowed: false, client: 'unknown' });
  });

  it('checks option values entry by entry, naming the bad entry', () => {
    const check = addressListFormat({ required: true });
    expect(() => check(['10.0.0.1', '2001:db8::/32', ' 192.0.2.0/24 '])).not.toThrow();
    expect(() => check(null)).not.toThrow();
    expect(() => check('10.0.0.1, ::1,')).not.toThrow();
    expect(() => check([])).toThrow('must list at least one IP address or CIDR range; an empty list would refuse every request');
    expect(() => check(' , ')).toThrow('must list at least one IP address or CIDR range');
    expect(() => addressListFormat({ required: false })([])).not.toThrow();
    expect(() => check(['10.0.0.256'])).toThrow('"10.0.0.256" is not an IP address or CIDR range (such as 10.0.0.7, 10.0.0.0/8, 2001:db8::1, 2001:db8::/32; host names are not resolved)');
    expect(() => check(['localhost'])).toThrow('"localhost" is not an IP address or CIDR range');
    expect(() => check(['fe80::1%eth0'])).toThrow('"fe80::1%eth0" is not an IP address or CIDR range');
    expect(() => check(['10.0.0.0/33'])).toThrow('"10.0.0.0/33" is not a CIDR range: the prefix length after "/" must be a whole number from 0 to 32');
    expect(() => check(['2001:db8::/129'])).toThrow('"2001:db8::/129" is not a CIDR range: the prefix length after "/" must be a whole number from 0 to 128');
    expect(() => check(['10.0.0.0/'])).toThrow('"10.0.0.0/" is not a CIDR range');
    expect(() => check({ ip: '10.0.0.1' })).toThrow('must be a list of IP addresses and CIDR ranges (such as 10.0.0.7, 10.0.0.0/8, 2001:db8::1, 2001:db8::/32), or the same separated by commas');
    expect(entriesOf('10.0.0.1, ::1,')).toEqual(['10.0.0.1', '::1']);
    expect(parseEntry('10.1.2.3/8')).toEqual({ address: '10.1.2.3', family: 'ipv4', prefix: 8 });
  });
});
