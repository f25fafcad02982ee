// Builders for diff tests: small manifests and records with known throughputs, and the "scaled copy"
// of a run that the regression tests diff against. Test-only (imported by *.test.ts files).

import type { NetperfMetrics } from '../measure/netperf.ts';
import { INTERFERENCE_DEFAULTS, pointId, type Parameter, type Plan, type TestName } from '../plan/plan.ts';
import type { HostInfo, Manifest, MeasurementRecord } from '../measure/records.ts';

export function testPlan(overrides: Partial<Plan> = {}): Plan {
  return {
    formatVersion: 1,
    name: 'unit',
    description: 'unit-test plan',
    interpretation: [],
    testLengthSeconds: 1,
    replicates: 3,
    warmupSeconds: 0,
    confidence: null,
    order: { randomize: false, seed: 1 },
    design: 'blocked',
    precision: null,
    interference: { ...INTERFERENCE_DEFAULTS },
    ports: { control: 12865, data: 12866 },
    ipVersion: 4,
    retries: 0,
    sweeps: [
      {
        test: 'TCP_STREAM',
        series: 'from-100',
        vary: 'sendSocketSize',
        from: 100,
        to: 8100,
        step: 4000,
        messageSize: 131072,
      },
      { test: 'UDP_STREAM', series: 'from-50', vary: 'messageSize', from: 50, to: 1050, step: 500 },
    ],
    ...overrides,
  };
}

export function testHost(role: 'client' | 'server', overrides: Partial<HostInfo> = {}): HostInfo {
  return {
    role,
    hostname: 'bench-1',
    cpuModel: 'Test CPU @ 2.50GHz',
    cores: 2,
    memoryBytes: 25_000_000_000,
    kernel: '6.1.0-test',
    distribution: 'Debian GNU/Linux 12 (bookworm)',
    netperfVersion: '2.7.0',
    sysctls: { 'net.core.wmem_max': '4194304', 'net.ipv4.tcp_congestion_control': 'cubic' },
    virtualizationFlags: ['vmx'],
    ...overrides,
  };
}

export function testManifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    formatVersion: 1,
    kind: 'virtnet-run',
    runId: '20260101T000000-aaaaaa',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:10:00.000Z',
    status: 'complete',
    git: { commit: '1111111111111111111111111111111111111111', dirty: false, branch: 'main', subject: 'baseline' },
    planSource: 'unit',
    plan: testPlan(),
    environments: ['native'],
    hosts: { client: testHost('client'), server: testHost('server') },
    runnerPair: null,
    link: {
      kind: 'veth-testbed',
      shaping: 'tbf rate 100mbit',
      rateMbit: 100,
      serverAddress: '198.18.40.1',
      clientAddress: '198.18.40.2',
      clientNamespace: 'vnet40-client',
    },
    environmentDescriptions: {
      native: {
        name: 'native',
        summary: 'netserver 2.7.0 on the host',
        details: { netserver: '2.7.0', pid: '100' },
        accelerator: 'none',
        startupSeconds: 0.3,
      },
    },
    sessions: [],
    environmentErrors: {},
    ...overrides,
  };
}

function metrics(test: TestName, throughput: number, value: number, confidenceWidth: number | null): NetperfMetrics {
  return {
    protocol: test === 'TCP_STREAM' ? 'TCP' : 'UDP',
    throughputMbps: throughput,
    sendThroughputMbps: throughput,
    elapsedSeconds: 1,
    messageSize: test === 'TCP_STREAM' ? 131072 : value,
    sendCalls: 1000,
    recvCalls: 1000,
    bytesSent: Math.round((throughput * 1e6) / 8),
    bytesReceived: Math.round((throughput * 1e6) / 8),
    sendSocketRequested: test === 'TCP_STREAM' ? value : -1,
    sendSocketInitial: test === 'TCP_STREAM' ? value * 2 : 212992,
    sendSocketFinal: test === 'TCP_STREAM' ? value * 2 : 212992,
    localRecvSocketRequested: -1,
    localRecvSocketFinal: 131072,
    remoteSendSocketFinal: 16384,
    remoteRecvSocketRequested: -1,
    remoteRecvSocketInitial: 131072,
    remoteRecvSocketFinal: 131072,
    transportMss: test === 'TCP_STREAM' ? 1448 : null,
    confidence:
      confidenceWidth === null ? null : { iterations: 3, level: 99, requestedWidth: 5, achievedWidth: confidenceWidth },
  };
}

/** One record per throughput given (replicates 1..n); a null throughput is a failed replicate. */
export function pointRecords(
  environment: string,
  test: TestName,
  value: number,
  throughputs: readonly (number | null)[],
  confidenceWidth: number | null = null,
): MeasurementRecord[] {
  const parameter: Parameter = test === 'TCP_STREAM' ? 'sendSocketSize' : 'messageSize';
  return throughputs.map((t, i) => ({
    formatVersion: 1,
    environment,
    pointId: pointId(test, parameter, value),
    test,
    series: test === 'TCP_STREAM' ? 'from-100' : 'from-50',
    parameter,
    value,
    replicate: i + 1,
    status: t === null ? 'failed' : 'ok',
    attempts: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    command: ['netperf'],
    stdout: t === null ? '' : `THROUGHPUT=${t}\n`,
    stderr: '',
    error: t === null ? 'netperf: connection refused' : null,
    metrics: t === null ? null : metrics(test, t, value, confidenceWidth),
  }));
}

/**
 * A copy of records with the throughput of the chosen ones multiplied by factor, consistently:
 * metrics.throughputMbps, the send-side throughput, bytes received, and the THROUGHPUT lines of the
 * raw netperf output the record keeps.
 */
export function scaleThroughput(
  records: readonly MeasurementRecord[],
  which: (r: MeasurementRecord) => boolean,
  factor: number,
): MeasurementRecord[] {
  const round = (v: number) => Math.round(v * 100) / 100;
  return records.map((r) => {
    if (!which(r) || r.metrics === null) return r;
    const m = r.metrics;
    return {
      ...r,
      stdout: r.stdout.replace(
        /^((?:THROUGHPUT|LOCAL_SEND_THROUGHPUT|REMOTE_RECV_THROUGHPUT)=)([0-9.]+)$/gm,
        (_, key: string, v: string) => `${key}${round(Number(v) * factor).toFixed(2)}`,
      ),
      metrics: {
        ...m,
        throughputMbps: round(m.throughputMbps * factor),
        sendThroughputMbps: m.sendThroughputMbps === null ? null : round(m.sendThroughputMbps * factor),
        bytesReceived: Math.round(m.bytesReceived * factor),
        bytesSent: Math.round(m.bytesSent * factor),
      },
    };
  });
}
