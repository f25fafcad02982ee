// netperf: the command for a point, and the parse of its OMNI keyval output. Pure.

import type { z } from 'zod';
import { finite, oneOf, strict } from '../core/schema.ts';
import type { ConfidenceOptions, Point, TestName } from '../plan/plan.ts';

export interface Endpoint {
  /** Where the client reaches netserver (the server's testbed address, or a port map on it). */
  address: string;
  controlPort: number;
  dataPort: number;
  /**
   * Where netserver binds its data socket (netperf's test-specific -H). Unset, it binds all
   * addresses, so a native netserver on one testbed would also receive another testbed's
   * datagrams. Only for netservers that own the address: behind a port map (docker, QEMU) the
   * server's address is not the guest's.
   */
  dataAddress?: string;
}

/**
 * OMNI output selectors we ask for with `-- -k`. One list serves TCP and UDP: the UDP okay rate is
 * REMOTE_RECV_CALLS / LOCAL_SEND_CALLS, and *_SIZE_REQ vs *_SIZE_END is requested vs effective
 * socket size (Linux doubles the request and clamps it).
 */
export const OUTPUT_SELECTORS = [
  'THROUGHPUT',
  'THROUGHPUT_UNITS',
  'ELAPSED_TIME',
  'PROTOCOL',
  'DIRECTION',
  'LOCAL_SEND_SIZE',
  'LOCAL_SEND_CALLS',
  'REMOTE_RECV_CALLS',
  'LOCAL_BYTES_SENT',
  'REMOTE_BYTES_RECVD',
  'LSS_SIZE_REQ',
  'LSS_SIZE',
  'LSS_SIZE_END',
  'LSR_SIZE_REQ',
  'LSR_SIZE_END',
  'RSS_SIZE_REQ',
  'RSS_SIZE_END',
  'RSR_SIZE_REQ',
  'RSR_SIZE',
  'RSR_SIZE_END',
  'CONFIDENCE_ITERATION',
  'CONFIDENCE_LEVEL',
  'CONFIDENCE_INTERVAL',
  'THROUGHPUT_CONFID',
  'TRANSPORT_MSS',
  'LOCAL_SEND_THROUGHPUT',
  'REMOTE_RECV_THROUGHPUT',
] as const;

export interface NetperfOptions {
  testLengthSeconds: number;
  confidence: ConfidenceOptions | null;
}

/**
 * argv for one netperf call (without any namespace prefix).
 * - `-P ,PORT` fixes only the remote data port: `-P PORT` would also bind the client's local port,
 *   which collides with a port map or netserver on the same host and reports 0.00.
 * - `-R 1` lets UDP_STREAM cross routed and NAT paths (it sets SO_DONTROUTE otherwise).
 * - `-f m` fixes the units at 10^6 bits/s so every record is comparable.
 */
export function netperfArgs(
  point: Pick<Point, 'test' | 'sendSocketSize' | 'messageSize' | 'requestSize' | 'remoteSocketSize'>,
  endpoint: Endpoint,
  options: NetperfOptions,
): string[] {
  const args = [
    '-4',
    '-H',
    endpoint.address,
    '-p',
    String(endpoint.controlPort),
    '-t',
    point.test,
    '-l',
    String(options.testLengthSeconds),
    '-f',
    'm',
    '-P',
    '0',
  ];
  if (options.confidence) {
    const c = options.confidence;
    args.push('-i', `${c.maxIterations},${c.minIterations}`, '-I', `${c.level},${c.width}`);
  }
  args.push('--', '-k', OUTPUT_SELECTORS.join(','));
  if (point.sendSocketSize !== undefined) args.push('-s', String(point.sendSocketSize));
  if (point.messageSize !== undefined) args.push('-m', String(point.messageSize));
  // UDP_STREAM honours -r: every send call is that many bytes, whatever -m (and the classic
  // output's message size) says. The record keeps bytes sent / send calls as the datagram size.
  if (point.requestSize !== undefined) args.push('-r', String(point.requestSize));
  if (point.remoteSocketSize !== undefined) args.push('-S', String(point.remoteSocketSize));
  if (point.test === 'UDP_STREAM') args.push('-R', '1');
  args.push('-P', `,${endpoint.dataPort}`);
  if (endpoint.dataAddress !== undefined) args.push('-H', endpoint.dataAddress);
  return args;
}

/** A count or size netperf reports: whole-number-ish, -1 where netperf does not know it. */
const reported = (meaning: string) => finite(-1, Number.MAX_SAFE_INTEGER, meaning);
/** Throughput in 10^6 bits/s: finite, not negative, below 10 Tbit/s (a sanity bound). */
const throughput = (meaning: string) => finite(0, 1e7, meaning);

/** What one netperf call measured, as parsed from its OMNI output and stored in each ok record. */
export const netperfMetricsSchema = strict({
  protocol: oneOf(['TCP', 'UDP']),
  throughputMbps: throughput('Receiver-side throughput, 10^6 bits/s (for UDP: what arrived).'),
  sendThroughputMbps: throughput('Sender-side throughput, 10^6 bits/s.').nullable(),
  elapsedSeconds: finite(0, 1e6, 'How long the test ran, in seconds.'),
  messageSize: reported('The send size netperf used (-m), in bytes.'),
  sendCalls: reported('Send calls made.'),
  recvCalls: reported("The receiver's receive calls."),
  bytesSent: reported('Bytes sent.'),
  bytesReceived: reported('Bytes received.'),
  sendSocketRequested: reported('Send socket buffer asked for (-1: not set).'),
  sendSocketInitial: reported('Send socket buffer as set at the start.'),
  sendSocketFinal: reported('Send socket buffer at the end of the test.'),
  localRecvSocketRequested: reported('Local receive socket buffer asked for (-1: not set).'),
  localRecvSocketFinal: reported('Local receive socket buffer at the end of the test.'),
  remoteSendSocketFinal: reported("netserver's send socket buffer at the end of the test."),
  remoteRecvSocketRequested: reported("netserver's receive socket buffer asked for (-1: not set)."),
  remoteRecvSocketInitial: reported("netserver's receive socket buffer as set at the start."),
  remoteRecvSocketFinal: reported("netserver's receive socket buffer at the end of the test."),
  transportMss: finite(1, 1e9, 'The TCP maximum segment size, when netperf reports one.').nullable(),
  confidence: strict({
    iterations: finite(0, 1000, 'Iterations netperf ran (-i).'),
    level: finite(0, 100, 'The confidence level asked for, in percent.'),
    requestedWidth: finite(-1, 1e6, 'The interval width asked for, in percent.'),
    achievedWidth: finite(-1, 1e6, 'The full width of the interval achieved, in percent of the mean.'),
  }).nullable(),
});

export type NetperfMetrics = z.output<typeof netperfMetricsSchema>;

export class NetperfOutputError extends Error {
  override name = 'NetperfOutputError';
}

/** KEY=value lines -> map. Values may be quoted (COMMAND_LINE). Other lines are ignored. */
export function parseKeyValues(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!;
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    map.set(m[1]!, value);
  }
  return map;
}

/**
 * The KEY=value results of `-k` output, with readers for numbers that name the key (and quote the
 * start of the output) when it is missing or not a number. `nonNegative`: every number read must be
 * >= 0 (stream output has -1 for socket sizes not requested; RR output has no negative field).
 */
function resultReader(stdout: string, options: { nonNegative: boolean }) {
  const kv = parseKeyValues(stdout);
  const excerpt = () => JSON.stringify(stdout.slice(0, 300));
  if (kv.size === 0) throw new NetperfOutputError(`netperf printed no KEY=value results; output began: ${excerpt()}`);
  const num = (key: string): number => {
    const raw = kv.get(key);
    if (raw === undefined) throw new NetperfOutputError(`netperf output lacks ${key}; output began: ${excerpt()}`);
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v))
      throw new NetperfOutputError(`netperf output has ${key}=${JSON.stringify(raw)}, not a number`);
    if (options.nonNegative && v < 0) throw new NetperfOutputError(`netperf output has a negative ${key}=${raw}`);
    return v;
  };
  const optionalNum = (key: string): number | null => (kv.has(key) ? num(key) : null);
  return { kv, num, optionalNum };
}

/**
 * Parses `netperf ... -- -k SELECTORS` output into metrics. Throws NetperfOutputError naming the
 * missing or malformed selector, with the start of the output, when the output is not what we asked for.
 */
export function parseNetperfOutput(stdout: string): NetperfMetrics {
  const { kv, num, optionalNum } = resultReader(stdout, { nonNegative: false });
  const protocol = kv.get('PROTOCOL');
  if (protocol !== 'TCP' && protocol !== 'UDP')
    throw new NetperfOutputError(`netperf output has PROTOCOL=${JSON.stringify(protocol)}, expected TCP or UDP`);
  const units = kv.get('THROUGHPUT_UNITS');
  if (units !== '10^6bits/s')
    throw new NetperfOutputError(
      `netperf output has THROUGHPUT_UNITS=${JSON.stringify(units)}, expected 10^6bits/s (-f m)`,
    );
  const throughputMbps = num('THROUGHPUT');
  if (throughputMbps < 0) throw new NetperfOutputError(`netperf output has a negative THROUGHPUT=${throughputMbps}`);
  const level = optionalNum('CONFIDENCE_LEVEL') ?? 0;
  const mss = optionalNum('TRANSPORT_MSS');
  return {
    protocol,
    throughputMbps,
    sendThroughputMbps: optionalNum('LOCAL_SEND_THROUGHPUT'),
    elapsedSeconds: num('ELAPSED_TIME'),
    messageSize: num('LOCAL_SEND_SIZE'),
    sendCalls: num('LOCAL_SEND_CALLS'),
    recvCalls: num('REMOTE_RECV_CALLS'),
    bytesSent: num('LOCAL_BYTES_SENT'),
    bytesReceived: num('REMOTE_BYTES_RECVD'),
    sendSocketRequested: num('LSS_SIZE_REQ'),
    sendSocketInitial: num('LSS_SIZE'),
    sendSocketFinal: num('LSS_SIZE_END'),
    localRecvSocketRequested: num('LSR_SIZE_REQ'),
    localRecvSocketFinal: num('LSR_SIZE_END'),
    remoteSendSocketFinal: num('RSS_SIZE_END'),
    remoteRecvSocketRequested: num('RSR_SIZE_REQ'),
    remoteRecvSocketInitial: num('RSR_SIZE'),
    remoteRecvSocketFinal: num('RSR_SIZE_END'),
    transportMss: mss !== null && mss > 0 ? mss : null,
    confidence:
      level > 0
        ? {
            iterations: num('CONFIDENCE_ITERATION'),
            level,
            requestedWidth: num('CONFIDENCE_INTERVAL'),
            // THROUGHPUT_CONFID is the achieved full width in percent of the mean.
            achievedWidth: num('THROUGHPUT_CONFID'),
          }
        : null,
  };
}

/**
 * The line of netperf's stderr/stdout that says what went wrong ("establish control: are you sure
 * there is a netserver listening ...", "send_data failed: Message too long"), for failed records.
 */
export function netperfErrorText(stdout: string, stderr: string, exitCode: number | null, timedOut: boolean): string {
  if (timedOut) return 'netperf did not finish in time and was killed';
  const lines = `${stderr}\n${stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^[A-Z][A-Z0-9_]*=/.test(l));
  const telling =
    lines.find((l) => /netserver|establish|failed|error|refused|unreachable|too long|timed out/i.test(l)) ?? lines[0];
  return telling ?? `netperf exited with code ${exitCode} and printed nothing`;
}

/** The test a protocol belongs to, to check netperf ran what we asked. */
export function protocolOf(test: TestName): 'TCP' | 'UDP' {
  return test === 'TCP_STREAM' ? 'TCP' : 'UDP';
}

/** The round-trip probes made each time an environment starts (not sweep points). */
export const RR_TESTS = ['TCP_RR', 'UDP_RR'] as const;
export type RrTest = (typeof RR_TESTS)[number];

/** OMNI selectors for a request/response probe: latency in microseconds, THROUGHPUT in Trans/s. */
export const RR_OUTPUT_SELECTORS = [
  'THROUGHPUT',
  'THROUGHPUT_UNITS',
  'ELAPSED_TIME',
  'PROTOCOL',
  'MEAN_LATENCY',
  'STDDEV_LATENCY',
  'P50_LATENCY',
  'P99_LATENCY',
  'MIN_LATENCY',
  'MAX_LATENCY',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
] as const;

/**
 * argv for one round-trip probe: 1-byte request and response (netperf's default), the same data
 * port rules as the sweep (`-P ,PORT`, see netperfArgs), `-R 1` so UDP crosses NAT port maps.
 */
export function rrArgs(test: RrTest, endpoint: Endpoint, testLengthSeconds: number): string[] {
  const args = [
    '-4',
    '-H',
    endpoint.address,
    '-p',
    String(endpoint.controlPort),
    '-t',
    test,
    '-l',
    String(testLengthSeconds),
    '-P',
    '0',
    '--',
    '-k',
    RR_OUTPUT_SELECTORS.join(','),
  ];
  if (test === 'UDP_RR') args.push('-R', '1');
  args.push('-P', `,${endpoint.dataPort}`);
  if (endpoint.dataAddress !== undefined) args.push('-H', endpoint.dataAddress);
  return args;
}

const latency = (meaning: string) => finite(0, 1e9, meaning);

/** What one round-trip probe measured. Latencies are per transaction, in microseconds. */
export const rrMetricsSchema = strict({
  protocol: oneOf(['TCP', 'UDP']),
  transactionsPerSecond: finite(0, 1e9, 'Transactions (request + response) per second.'),
  elapsedSeconds: finite(0, 1e6, 'How long the probe ran, in seconds.'),
  meanLatencyMicroseconds: latency('Mean round-trip time of one transaction, in microseconds.'),
  stddevLatencyMicroseconds: latency('Standard deviation of the round-trip time, in microseconds.'),
  p50LatencyMicroseconds: latency('Median round-trip time, in microseconds.'),
  p99LatencyMicroseconds: latency('99th percentile of the round-trip time, in microseconds.'),
  minLatencyMicroseconds: latency('Shortest round trip, in microseconds.').nullable(),
  maxLatencyMicroseconds: latency('Longest round trip, in microseconds.').nullable(),
  requestSize: reported('Request size, in bytes.'),
  responseSize: reported('Response size, in bytes.'),
});

export type RrMetrics = z.output<typeof rrMetricsSchema>;

/** Parses `netperf -t TCP_RR|UDP_RR ... -- -k RR_OUTPUT_SELECTORS`; throws NetperfOutputError naming what is wrong. */
export function parseRrOutput(stdout: string, test: RrTest): RrMetrics {
  const { kv, num, optionalNum } = resultReader(stdout, { nonNegative: true });
  const expected = test === 'TCP_RR' ? 'TCP' : 'UDP';
  const protocol = kv.get('PROTOCOL');
  if (protocol !== expected)
    throw new NetperfOutputError(
      `netperf output has PROTOCOL=${JSON.stringify(protocol)}, expected ${expected} for ${test}`,
    );
  const units = kv.get('THROUGHPUT_UNITS');
  if (units !== 'Trans/s')
    throw new NetperfOutputError(
      `netperf output has THROUGHPUT_UNITS=${JSON.stringify(units)}, expected Trans/s for ${test}`,
    );
  const transactionsPerSecond = num('THROUGHPUT');
  // No transaction completed (a lost UDP datagram stalls UDP_RR): there is no round-trip time.
  if (transactionsPerSecond === 0) throw new NetperfOutputError(`${test} completed no transaction (THROUGHPUT=0)`);
  return {
    protocol: expected,
    transactionsPerSecond,
    elapsedSeconds: num('ELAPSED_TIME'),
    meanLatencyMicroseconds: num('MEAN_LATENCY'),
    stddevLatencyMicroseconds: num('STDDEV_LATENCY'),
    p50LatencyMicroseconds: num('P50_LATENCY'),
    p99LatencyMicroseconds: num('P99_LATENCY'),
    minLatencyMicroseconds: optionalNum('MIN_LATENCY'),
    maxLatencyMicroseconds: optionalNum('MAX_LATENCY'),
    requestSize: num('REQUEST_SIZE'),
    responseSize: num('RESPONSE_SIZE'),
  };
}
