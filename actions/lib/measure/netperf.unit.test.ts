import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  netperfArgs,
  netperfErrorText,
  NetperfOutputError,
  parseNetperfOutput,
  parseRrOutput,
  rrArgs,
} from './netperf.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/netperf/${name}`, import.meta.url), 'utf8');
const endpoint = { address: '198.18.0.1', controlPort: 12865, dataPort: 12866 };

describe('netperfArgs', () => {
  it('fixes only the remote data port and asks for keyval output', () => {
    const args = netperfArgs({ test: 'TCP_STREAM', sendSocketSize: 100, messageSize: 131072 }, endpoint, {
      testLengthSeconds: 3,
      confidence: null,
    });
    expect(args.join(' ')).toMatch(
      /^-4 -H 198\.18\.0\.1 -p 12865 -t TCP_STREAM -l 3 -f m -P 0 -- -k \S+ -s 100 -m 131072 -P ,12866$/,
    );
  });
  it('adds -R 1 for UDP and confidence options when asked', () => {
    const args = netperfArgs({ test: 'UDP_STREAM', messageSize: 1450 }, endpoint, {
      testLengthSeconds: 1,
      confidence: { level: 99, width: 5, minIterations: 3, maxIterations: 10 },
    });
    const s = args.join(' ');
    expect(s).toContain('-i 10,3 -I 99,5 --');
    expect(s).toMatch(/-m 1450 -R 1 -P ,12866$/);
    expect(s).not.toContain('-s ');
  });
  it("sets netserver's socket buffers (-S) only when the point fixes them", () => {
    const args = netperfArgs(
      { test: 'TCP_STREAM', sendSocketSize: 1100, messageSize: 131072, remoteSocketSize: 131072 },
      endpoint,
      { testLengthSeconds: 2, confidence: null },
    );
    expect(args.join(' ')).toMatch(/ -s 1100 -m 131072 -S 131072 -P ,12866$/);
    expect(
      netperfArgs({ test: 'TCP_STREAM', sendSocketSize: 1100 }, endpoint, { testLengthSeconds: 2, confidence: null }),
    ).not.toContain('-S');
  });
  it('binds the data socket to the server address only when the endpoint says so', () => {
    const args = netperfArgs(
      { test: 'UDP_STREAM', messageSize: 50 },
      { ...endpoint, dataAddress: '198.18.0.1' },
      { testLengthSeconds: 1, confidence: null },
    );
    expect(args.join(' ')).toMatch(/-P ,12866 -H 198\.18\.0\.1$/);
  });
});

describe('parseNetperfOutput over real netperf 2.7.0 output', () => {
  it('reads a TCP_STREAM with a 100 B socket request, which Linux raised to 4608', () => {
    const m = parseNetperfOutput(fixture('tcp-stream-s100.txt'));
    expect(m.protocol).toBe('TCP');
    expect(m.throughputMbps).toBe(94.07);
    expect(m.sendSocketRequested).toBe(100);
    expect(m.sendSocketFinal).toBe(4608);
    expect(m.messageSize).toBe(131072);
    expect(m.transportMss).toBe(1448);
    expect(m.confidence).toBeNull();
  });
  it('reads UDP send and receive counts (the okay rate)', () => {
    const m = parseNetperfOutput(fixture('udp-stream-m1450.txt'));
    expect(m.protocol).toBe('UDP');
    expect(m.sendCalls).toBe(16573);
    expect(m.recvCalls).toBe(16573);
    expect(m.sendSocketRequested).toBe(-1);
    expect(m.transportMss).toBeNull();
  });
  it('reads netperf confidence results', () => {
    const m = parseNetperfOutput(fixture('tcp-stream-s4100-confidence.txt'));
    expect(m.confidence).toEqual({ iterations: 3, level: 99, requestedWidth: 5, achievedWidth: 0.95 });
  });
  it('refuses output that is not keyval', () => {
    expect(() => parseNetperfOutput(fixture('udp-classic-m50.txt'))).toThrow(NetperfOutputError);
    expect(() => parseNetperfOutput('')).toThrow(/no KEY=value/);
  });
  it('names a missing or malformed selector', () => {
    const text = fixture('tcp-stream-s100.txt');
    expect(() => parseNetperfOutput(text.replace(/^LOCAL_SEND_CALLS=.*$/m, ''))).toThrow(/lacks LOCAL_SEND_CALLS/);
    expect(() => parseNetperfOutput(text.replace(/^THROUGHPUT=.*$/m, 'THROUGHPUT=abc'))).toThrow(
      /THROUGHPUT="abc", not a number/,
    );
    expect(() => parseNetperfOutput(text.replace('10^6bits/s', '10^3bits/s'))).toThrow(/expected 10\^6bits\/s/);
  });
});

describe('netperfErrorText', () => {
  it('finds the telling line of a missing netserver', () => {
    expect(netperfErrorText(fixture('no-netserver.stdout'), fixture('no-netserver.stderr'), 255, false)).toMatch(
      /^establish control: are you sure there is a netserver listening on 198\.18\.0\.2 at port 12865\?$/,
    );
  });
  it('finds "Message too long"', () => {
    expect(
      netperfErrorText(
        fixture('udp-stream-m70000-too-long.stdout'),
        fixture('udp-stream-m70000-too-long.stderr'),
        1,
        false,
      ),
    ).toMatch(/Message too long/);
  });
  it('says when netperf was killed for hanging', () => {
    expect(netperfErrorText('', '', null, true)).toMatch(/did not finish in time/);
  });
});

describe('round-trip probes (TCP_RR, UDP_RR)', () => {
  it('fixes only the remote data port, asks for latency keyvals, and lets UDP cross NAT', () => {
    expect(rrArgs('TCP_RR', endpoint, 2).join(' ')).toMatch(
      /^-4 -H 198\.18\.0\.1 -p 12865 -t TCP_RR -l 2 -P 0 -- -k \S*MEAN_LATENCY\S* -P ,12866$/,
    );
    expect(rrArgs('UDP_RR', { ...endpoint, dataAddress: '198.18.0.1' }, 2).join(' ')).toMatch(
      /-t UDP_RR -l 2 .* -R 1 -P ,12866 -H 198\.18\.0\.1$/,
    );
  });
  it('parses real TCP_RR and UDP_RR keyval output', () => {
    const tcp = parseRrOutput(fixture('tcp-rr.txt'), 'TCP_RR');
    expect(tcp).toMatchObject({
      protocol: 'TCP',
      transactionsPerSecond: 12930.76,
      meanLatencyMicroseconds: 77.2,
      stddevLatencyMicroseconds: 388.92,
      p50LatencyMicroseconds: 26,
      p99LatencyMicroseconds: 2233,
      minLatencyMicroseconds: 18,
      requestSize: 1,
      responseSize: 1,
    });
    const udp = parseRrOutput(fixture('udp-rr.txt'), 'UDP_RR');
    expect(udp).toMatchObject({
      protocol: 'UDP',
      transactionsPerSecond: 7372.05,
      meanLatencyMicroseconds: 135.52,
      p99LatencyMicroseconds: 3150,
      maxLatencyMicroseconds: 79813,
    });
  });
  it('refuses output of the wrong test, a missing latency, stream units and a probe with no transaction', () => {
    expect(() => parseRrOutput(fixture('tcp-rr.txt'), 'UDP_RR')).toThrow(/PROTOCOL="TCP", expected UDP for UDP_RR/);
    expect(() => parseRrOutput(fixture('tcp-rr.txt').replace(/^MEAN_LATENCY=.*\n/m, ''), 'TCP_RR')).toThrow(
      /lacks MEAN_LATENCY/,
    );
    expect(() => parseRrOutput(fixture('tcp-stream-s100.txt'), 'TCP_RR')).toThrow(NetperfOutputError);
    expect(() => parseRrOutput(fixture('udp-rr.txt').replace(/^THROUGHPUT=.*$/m, 'THROUGHPUT=0.00'), 'UDP_RR')).toThrow(
      /completed no transaction/,
    );
    expect(() => parseRrOutput(fixture('no-netserver.stdout'), 'TCP_RR')).toThrow(NetperfOutputError);
  });
});
