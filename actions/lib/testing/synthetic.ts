// A seeded synthetic run (manifest + records) for benchmarks and tests of the report: curves shaped
// like the paper's (OSv above native above Docker in 2000-6000 B, an unstable KVM curve, a UDP drop
// at 1500 B) or flat like the testbed. Never presented as a measurement: its runId, hostnames and
// git subject say "synthetic". Pure and deterministic for a given seed.

import type { NetperfMetrics } from '../measure/netperf.ts';
import { expandPoints, type Plan, type Point } from '../plan/plan.ts';
import { seededRandom } from '../plan/schedule.ts';
import type { EnvironmentDescription, HostInfo, Manifest, MeasurementRecord } from '../measure/records.ts';
import { RESULTS_FORMAT_VERSION } from '../measure/records.ts';

export interface SyntheticOptions {
  plan: Plan;
  environments: string[];
  replicates?: number;
  seed?: number;
  /** 'paper': the paper's shapes; 'flat': every environment like native on the testbed. */
  profile?: 'paper' | 'flat';
  accelerator?: 'kvm' | 'tcg';
  runId?: string;
  createdAt?: string;
  gitSubject?: string;
  gitCommit?: string;
  hostname?: string;
  /** The runner pair's name (manifest.runnerPair); default null, the embedded testbed. */
  runnerPair?: string | null;
  /** Relative noise (standard deviation / mean) of each replicate. */
  noise?: number;
  /** Noiseless mean throughput per environment and point, instead of the profile's (tests shape the data a rule needs). */
  mean?: (env: string, point: Point) => number;
  /** UDP okay rate per environment and message size, instead of the profile's. */
  okRate?: (env: string, x: number) => number;
  /** Noiseless server CPU-seconds per gigabyte per environment and point: records then carry a CPU cost (record.cpu). */
  cpuPerGigabyte?: (env: string, point: Point) => number;
}

export interface SyntheticRun {
  manifest: Manifest;
  records: MeasurementRecord[];
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The noiseless mean of an environment at a point. */
export function syntheticMean(env: string, point: Point, profile: 'paper' | 'flat'): number {
  const x = point.value;
  if (point.test === 'TCP_STREAM') {
    const native = 94;
    if (profile === 'flat') return native;
    const inRange = x >= 2000 && x <= 6000;
    switch (env) {
      case 'osv':
        return native + (inRange ? 10 : 0);
      case 'docker':
        return native - (inRange ? 6 : 0);
      case 'kvm':
        return native - (x > 3500 && x < 4500 ? 20 : x > 5500 && x < 6000 ? 12 : 0) + (inRange && x < 3500 ? 5 : 0);
      default:
        return native;
    }
  }
  // UDP: per-frame overhead at small messages, fragmentation beyond one 1500 B frame.
  const payload = 1472;
  const frames = Math.ceil(x / payload);
  const link = 100 * (x / (x + frames * (42 + 24)));
  if (profile === 'flat') return link * 0.99;
  const fragmented = x > payload;
  const factor = new Map([
    ['native', fragmented ? 1 : 0.93],
    ['docker', fragmented ? 0.85 : 0.97],
    ['kvm', fragmented ? 0.95 : 0.97],
    ['osv', fragmented ? 0.8 : 0.97],
  ]);
  const drop = fragmented ? 0.12 : 1;
  return link * (factor.get(env) ?? 1) * drop;
}

function okRate(env: string, x: number, profile: 'paper' | 'flat'): number {
  if (profile === 'flat') return 1;
  if (env === 'osv' && x >= 250 && x <= 900) return 0.99;
  if (env === 'native') return 0.98;
  return 0.9;
}

const host = (role: 'client' | 'server', hostname: string): HostInfo => ({
  role,
  hostname,
  cpuModel: 'Synthetic CPU @ 2.50GHz',
  cores: 2,
  memoryBytes: 24 * 1024 ** 3,
  kernel: '6.1.0-synthetic',
  distribution: 'Debian GNU/Linux 12 (bookworm)',
  netperfVersion: '2.7.0',
  sysctls: {
    'net.core.wmem_max': '4194304',
    'net.core.rmem_max': '4194304',
    'net.ipv4.tcp_wmem': '4096 16384 4194304',
  },
  virtualizationFlags: [],
});

function description(env: string, accelerator: 'kvm' | 'tcg'): EnvironmentDescription {
  const guest = env === 'kvm' || env === 'osv';
  const details: Record<string, string> = guest
    ? { QEMU: 'QEMU emulator version 7.2.0 (synthetic)', accelerator, network: 'tap on bridge, DNAT port maps' }
    : {};
  if (env === 'docker')
    Object.assign(details, {
      Docker: '20.10.24 (synthetic)',
      network: 'bridge, published ports without userland proxy',
    });
  if (env === 'osv') details['OSv commit'] = '0000000 (synthetic)';
  return {
    name: env,
    summary: `${env} (synthetic)`,
    details,
    accelerator: guest ? accelerator : 'none',
    startupSeconds: guest ? 9 : 0.2,
  };
}

export function syntheticRun(options: SyntheticOptions): SyntheticRun {
  const profile = options.profile ?? 'paper';
  const seed = options.seed ?? 1;
  const replicates = options.replicates ?? options.plan.replicates;
  const noise = options.noise ?? 0.005;
  const random = seededRandom(seed);
  // Synthetic runs have every replicate of every point: a precision target has nothing to add.
  const plan: Plan = { ...options.plan, replicates, precision: null };
  const createdAt = options.createdAt ?? '2026-01-01T00:00:00.000Z';
  const runId = options.runId ?? `synthetic-${seed}`;
  const points = expandPoints(plan);
  const records: MeasurementRecord[] = [];
  const t0 = Date.parse(createdAt);
  let clock = 0;
  for (const env of options.environments) {
    for (let replicate = 1; replicate <= replicates; replicate++) {
      for (const point of points) {
        const m = options.mean ? options.mean(env, point) : syntheticMean(env, point, profile);
        const throughput = Math.max(0.01, m * (1 + noise * gaussian(random)));
        const udp = point.test === 'UDP_STREAM';
        const size = udp ? point.value : (point.messageSize ?? 131072);
        const bytes = Math.round((throughput * 1e6 * plan.testLengthSeconds) / 8);
        const recvCalls = Math.max(1, Math.round(bytes / size));
        const sendCalls = udp
          ? Math.round(recvCalls / (options.okRate ?? ((e, x) => okRate(e, x, profile)))(env, point.value))
          : recvCalls;
        const requested = point.sendSocketSize ?? -1;
        const effective = requested > 0 ? Math.max(2 * requested, 4608) : 212992;
        const metrics: NetperfMetrics = {
          protocol: udp ? 'UDP' : 'TCP',
          throughputMbps: Math.round(throughput * 100) / 100,
          sendThroughputMbps: null,
          elapsedSeconds: plan.testLengthSeconds,
          messageSize: size,
          sendCalls,
          recvCalls,
          bytesSent: sendCalls * size,
          bytesReceived: recvCalls * size,
          sendSocketRequested: requested,
          sendSocketInitial: effective,
          sendSocketFinal: effective,
          localRecvSocketRequested: -1,
          localRecvSocketFinal: 131072,
          remoteSendSocketFinal: 16384,
          remoteRecvSocketRequested: -1,
          remoteRecvSocketInitial: 131072,
          remoteRecvSocketFinal: 131072,
          transportMss: udp ? null : 1448,
          confidence: null,
        };
        const startedAt = new Date(t0 + clock * 1000).toISOString();
        clock += plan.testLengthSeconds;
        const delivered = Math.round((metrics.throughputMbps * 1e6 * metrics.elapsedSeconds) / 8);
        const perGigabyte = options.cpuPerGigabyte
          ? Number((options.cpuPerGigabyte(env, point) * (1 + noise * gaussian(random))).toFixed(6))
          : null;
        records.push({
          formatVersion: RESULTS_FORMAT_VERSION,
          environment: env,
          pointId: point.id,
          test: point.test,
          series: point.series,
          parameter: point.parameter,
          value: point.value,
          replicate,
          status: 'ok',
          attempts: 1,
          startedAt,
          finishedAt: new Date(t0 + clock * 1000).toISOString(),
          command: ['netperf', '(synthetic)'],
          stdout: '',
          stderr: '',
          error: null,
          metrics,
          ...(perGigabyte === null
            ? {}
            : {
                cpu: {
                  scope: { cgroups: [], pids: [4242] },
                  wallSeconds: plan.testLengthSeconds,
                  deliveredBytes: delivered,
                  serverSeconds: Number(((perGigabyte * delivered) / 1e9).toFixed(6)),
                  serverSecondsPerGigabyte: perGigabyte,
                  unreadable: null,
                  clientSeconds: Number(((2 * delivered) / 1e9).toFixed(2)),
                  clientSecondsPerGigabyte: 2,
                  hostSoftirqSeconds: 0.1,
                  hostIrqSeconds: 0,
                  softirqInTaskTime: true,
                },
              }),
        });
      }
    }
  }
  const hostname = options.hostname ?? 'synthetic-host';
  const manifest: Manifest = {
    formatVersion: RESULTS_FORMAT_VERSION,
    kind: 'virtnet-run',
    runId,
    createdAt,
    updatedAt: createdAt,
    status: 'complete',
    git: {
      commit: options.gitCommit ?? '0'.repeat(40),
      dirty: false,
      branch: 'synthetic',
      subject: options.gitSubject ?? 'synthetic run (not a measurement)',
    },
    planSource: plan.name,
    plan,
    environments: [...options.environments],
    hosts: { client: host('client', hostname), server: host('server', hostname) },
    runnerPair: options.runnerPair ?? null,
    link: {
      kind: 'veth-testbed',
      shaping: 'tbf rate 100mbit burst 64kbit, stab overhead 24 (Ethernet framing), gso_max_segs 1, both directions',
      rateMbit: 100,
      serverAddress: '198.18.0.1',
      clientAddress: '198.18.0.2',
      clientNamespace: 'vnet0-client',
    },
    environmentDescriptions: Object.fromEntries(
      options.environments.map((e) => [e, description(e, options.accelerator ?? 'kvm')]),
    ),
    sessions: [
      {
        startedAt: createdAt,
        endedAt: new Date(t0 + clock * 1000).toISOString(),
        endReason: 'completed',
        measuredInSession: records.length,
      },
    ],
    environmentErrors: {},
  };
  return { manifest, records };
}
