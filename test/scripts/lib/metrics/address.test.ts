import { describe, expect, it } from 'vitest';
import { formatMetricsAddress, parseMetricsAddress } from '#scripts/lib/metrics/address.ts';

describe('--metrics-address', () => {
  it.each([
    ['127.0.0.1:9464', { kind: 'tcp', host: '127.0.0.1', port: 9464, loopback: true }],
    ['localhost:0', { kind: 'tcp', host: 'localhost', port: 0, loopback: true }],
    ['[::1]:9464', { kind: 'tcp', host: '::1', port: 9464, loopback: true }],
    ['/run/irsa-anywhere/metrics.sock', { kind: 'unix', path: '/run/irsa-anywhere/metrics.sock' }],
    ['unix:///run/m.sock', { kind: 'unix', path: '/run/m.sock' }],
  ])('accepts %s', (value, expected) => {
    expect(parseMetricsAddress(value)).toEqual(expected);
  });

  it.each(['0.0.0.0:9464', '10.0.0.5:9464', '[::]:9464', 'node1.example.com:9464'])(
    'refuses the non-loopback %s unless --metrics-allow-remote is given',
    (value) => {
      expect(() => parseMetricsAddress(value)).toThrow(
        expect.objectContaining({ code: 'FLAG_METRICS_ADDRESS_REMOTE' }),
      );
      expect(parseMetricsAddress(value, true)).toMatchObject({ kind: 'tcp', loopback: false });
    },
  );

  it.each(['9464', ':9464', '127.0.0.1', '127.0.0.1:99999', 'relative.sock', 'http://127.0.0.1:1'])(
    'refuses %s with FLAG_INVALID',
    (value) => {
      expect(() => parseMetricsAddress(value)).toThrow(expect.objectContaining({ code: 'FLAG_INVALID' }));
    },
  );

  it('prints an address the way it is typed', () => {
    expect(formatMetricsAddress(parseMetricsAddress('[::1]:1'))).toBe('[::1]:1');
    expect(formatMetricsAddress(parseMetricsAddress('/x.sock'))).toBe('/x.sock');
  });
});
