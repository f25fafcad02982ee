// The delay line's figures for `npm run bench` (sections e-h; env/testbed/README.md explains them):
//  (e) accuracy: TCP_RR round trip with the delay minus without, at one-way 0.1, 0.2, 0.4 ms, vs
//      2d (target within +-10 us or +-5%, whichever is larger), with the jitter (stdev)
//  (f) capacity kept: the TCP plateau with the default delay vs 100BASE-TX's 94.148 Mbit/s (1%)
//  (g) the delay line's CPU seconds per second of traffic at line rate (and idle)
//  (h) the regime: native TCP throughput vs requested -s 100..20000 with the default delay, and
//      the calibration check (first reaches 99% of the plateau between -s 5000 and 7000; at
//      -s 100 at most 80% of it)
// Every figure is printed with the 1-minute load average at the time: other work on a 2-core
// machine moves them.

import { loadavg } from 'node:os';
import { processCpuSeconds } from '../actions/lib/core/liveness.ts';
import { runCommand } from '../actions/lib/core/proc.ts';
import { mean, stdev } from '../actions/lib/core/stats.ts';
import type { Endpoint } from '../actions/lib/measure/netperf.ts';
import type { Point } from '../actions/lib/plan/plan.ts';
import { netperfArgs, parseNetperfOutput } from '../actions/lib/measure/netperf.ts';
import { expandPoints } from '../actions/lib/plan/plan.ts';
import { tcpGoodputCapacityMbit } from '../actions/lib/analyse/capacity.ts';
import { loadPlan } from '../actions/lib/plan/plan-file.ts';
import { type DelayLineStats, delayLineState, delayLineStats } from '../env/testbed/delay-line.ts';
import { CALIBRATED_ONE_WAY_DELAY_US, type Testbed, testbedUp } from '../env/testbed/testbed.ts';
import { calibrationCheck, type ThroughputPoint } from '../env/testbed/calibration.ts';
import { PLANS_DIR } from './cli/common.ts';

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const load = () => `load ${loadavg()[0]!.toFixed(2)}`;

export interface DelayBenchContext {
  index: number;
  endpoint: Endpoint;
  /** The CPU the delay line spins on (undefined: the testbed's default). */
  delayLineCpu?: number | null;
}

async function withDelay(ctx: DelayBenchContext, oneWayUs: number): Promise<Testbed> {
  return testbedUp({
    index: ctx.index,
    rateMbit: 100,
    oneWayDelayMicroseconds: oneWayUs,
    delayLineCpu: ctx.delayLineCpu,
  });
}

interface RoundTrip {
  meanUs: number;
  stdevUs: number;
  p50Us: number;
  p99Us: number;
}

async function tcpRoundTrip(testbed: Testbed, endpoint: Endpoint, seconds: number): Promise<RoundTrip> {
  const argv = [
    ...testbed.clientPrefix,
    'netperf',
    '-4',
    '-H',
    endpoint.address,
    '-p',
    String(endpoint.controlPort),
    '-t',
    'TCP_RR',
    '-l',
    String(seconds),
    '-P',
    '0',
    '--',
    '-k',
    'MEAN_LATENCY,STDDEV_LATENCY,P50_LATENCY,P99_LATENCY',
    '-P',
    `,${endpoint.dataPort}`,
  ];
  const r = await runCommand(argv, { timeoutMs: (seconds + 30) * 1000 });
  const v = (k: string) => Number(new RegExp(`^${k}=([\\d.]+)`, 'm').exec(r.stdout)?.[1] ?? Number.NaN);
  if (r.exitCode !== 0 || Number.isNaN(v('MEAN_LATENCY'))) throw new Error(`TCP_RR failed: ${r.stderr || r.stdout}`);
  return { meanUs: v('MEAN_LATENCY'), stdevUs: v('STDDEV_LATENCY'), p50Us: v('P50_LATENCY'), p99Us: v('P99_LATENCY') };
}

type StreamOptions = Pick<Point, 'sendSocketSize' | 'messageSize' | 'remoteSocketSize'>;

async function tcpStream(
  testbed: Testbed,
  endpoint: Endpoint,
  options: StreamOptions,
  seconds: number,
): Promise<number> {
  const args = netperfArgs({ test: 'TCP_STREAM', ...options }, endpoint, {
    testLengthSeconds: seconds,
    confidence: null,
  });
  const r = await runCommand([...testbed.clientPrefix, 'netperf', ...args], { timeoutMs: (seconds + 30) * 1000 });
  if (r.exitCode !== 0)
    throw new Error(`TCP_STREAM -s ${options.sendSocketSize ?? 'default'} failed: ${r.stderr || r.stdout}`);
  return parseNetperfOutput(r.stdout).throughputMbps;
}

/** (e) Interleaved rounds (no delay, 0.1, 0.2, 0.4 ms), so a drift in load hits every delay alike. */
export async function benchAccuracy(ctx: DelayBenchContext, rounds = 3, seconds = 5): Promise<void> {
  const delays = [0, 100, 200, 400];
  const results = new Map<number, RoundTrip[]>(delays.map((d) => [d, []]));
  // The delay line's own account of each measurement: how late it released packets after their due time.
  const lineStats = new Map<number, DelayLineStats[]>(delays.map((d) => [d, []]));
  const loads: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const d of round % 2 === 0 ? delays : [...delays].reverse()) {
      const testbed = await withDelay(ctx, d);
      await tcpRoundTrip(testbed, ctx.endpoint, 1); // wakes the delay line from its idle sleep
      results.get(d)!.push(await tcpRoundTrip(testbed, ctx.endpoint, seconds));
      const stats = d > 0 ? await delayLineStats(ctx.index) : null;
      if (stats) lineStats.get(d)!.push(stats);
    }
    loads.push(load());
  }
  const base = results.get(0)!;
  const baseMean = mean(base.map((r) => r.meanUs));
  const baseP50 = mean(base.map((r) => r.p50Us));
  console.log(
    `(e) delay accuracy: TCP_RR round trip, ${rounds} interleaved rounds of ${seconds} s per delay (${loads.join(', ')})`,
  );
  console.log(
    `    no delay: mean ${fmt(baseMean)} us (stdev ${fmt(mean(base.map((r) => r.stdevUs)))}), p50 ${fmt(baseP50)} us`,
  );
  for (const d of delays.slice(1)) {
    const rs = results.get(d)!;
    const added = mean(rs.map((r) => r.meanUs)) - baseMean;
    const addedP50 = mean(rs.map((r) => r.p50Us)) - baseP50;
    const target = 2 * d;
    const tolerance = Math.max(10, 0.05 * target);
    const verdict = Math.abs(added - target) <= tolerance ? 'within target' : 'OUTSIDE target';
    const line = lineStats.get(d)!;
    const lineLate =
      line.length === 0
        ? 'no stats'
        : `p50 ${fmt(mean(line.map((l) => l.lateP50Us)))}, p90 ${fmt(mean(line.map((l) => l.lateP90Us)))}, p99 ${fmt(mean(line.map((l) => l.lateP99Us)))} us`;
    console.log(
      `    one-way ${d} us: added ${fmt(added)} us (mean; spread over rounds ${fmt(stdev(rs.map((r) => r.meanUs)))}), p50 ${fmt(addedP50)} us vs 2d = ${target} us: error ${fmt(added - target)} us (p50 ${fmt(addedP50 - target)}), tolerance +-${fmt(tolerance)} us: ${verdict}; jitter (stdev) ${fmt(mean(rs.map((r) => r.stdevUs)))} us, p99 ${fmt(mean(rs.map((r) => r.p99Us)))} us`,
    );
    console.log(`      the delay line's releases after their due time (its own clock): ${lineLate}`);
  }
  console.log(
    '    (an added round trip beyond 2d that the line does not account for is spent at the ends: on this VM a CPU idle between packets wakes late, see env/testbed/README.md)',
  );
  console.log('');
}

/** (f) and (g): the plateau with the default delay, and what the delay line costs meanwhile. */
export async function benchPlateauAndCost(
  ctx: DelayBenchContext,
  oneWayUs = CALIBRATED_ONE_WAY_DELAY_US,
  samples = 5,
  seconds = 5,
): Promise<void> {
  const testbed = await withDelay(ctx, oneWayUs);
  const pid = delayLineState(ctx.index)!.pid;
  await tcpRoundTrip(testbed, ctx.endpoint, 1);
  const values: number[] = [];
  let cpu = 0;
  let wall = 0;
  for (let i = 0; i < samples; i++) {
    const cpu0 = processCpuSeconds(pid)!;
    const t0 = performance.now();
    values.push(await tcpStream(testbed, ctx.endpoint, { messageSize: 131072 }, seconds));
    wall += (performance.now() - t0) / 1000;
    cpu += processCpuSeconds(pid)! - cpu0;
  }
  const loadAtLineRate = load();
  const idle0 = processCpuSeconds(pid)!;
  await new Promise((r) => setTimeout(r, 5000));
  const idle = (processCpuSeconds(pid)! - idle0) / 5;
  const m = mean(values);
  const offset = (100 * (m - tcpGoodputCapacityMbit(100))) / tcpGoodputCapacityMbit(100);
  console.log(
    `(f) TCP plateau with the default delay (${oneWayUs} us one way), default socket sizes, ${samples} x ${seconds} s: ${values.map((v) => fmt(v, 2)).join(', ')} Mbit/s (${loadAtLineRate})`,
  );
  console.log(
    `    mean ${fmt(m, 3)} (stdev ${fmt(stdev(values), 3)}) vs ${fmt(tcpGoodputCapacityMbit(100), 3)}: ${fmt(offset, 2)}% (target within 1%: ${Math.abs(offset) <= 1 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `(g) delay line CPU cost: ${fmt(cpu / wall, 2)} CPU-s per s of line-rate TCP (${fmt(cpu, 1)} s over ${fmt(wall, 1)} s, pinned to ${ctx.delayLineCpu ?? delayLineState(ctx.index)!.cpu ?? 'no CPU'}); idle: ${fmt(idle, 3)} CPU-s per s (${load()})\n`,
  );
}

/**
 * The paper plan's TCP_STREAM points, one per requested -s (both series of its Fig. 4), with the
 * plan's other options (-m, -S): the regime is measured as a run measures it.
 */
function paperTcpPoints(): StreamOptions[] {
  const { plan } = loadPlan('paper', PLANS_DIR);
  const bySize = new Map<number, StreamOptions>();
  for (const p of expandPoints(plan)) {
    if (p.test === 'TCP_STREAM' && p.sendSocketSize !== undefined) bySize.set(p.sendSocketSize, p);
  }
  return [...bySize.values()].sort((a, b) => a.sendSocketSize! - b.sendSocketSize!);
}

/** Native TCP vs requested -s with one delay; the plateau (default send socket size, the plan's other options) measured in the same passes. */
export async function measureRegime(
  ctx: DelayBenchContext,
  oneWayUs: number,
  replicates = 2,
  seconds = 3,
  points = paperTcpPoints(),
): Promise<{ points: ThroughputPoint[]; plateau: number }> {
  const testbed = await withDelay(ctx, oneWayUs);
  await tcpRoundTrip(testbed, ctx.endpoint, 1);
  const plateauOptions: StreamOptions = { ...points[0]!, sendSocketSize: undefined };
  const bySize = new Map<number, number[]>(points.map((p) => [p.sendSocketSize!, []]));
  const plateau: number[] = [];
  for (let rep = 0; rep < replicates; rep++) {
    const order = rep % 2 === 0 ? points : [...points].reverse();
    plateau.push(await tcpStream(testbed, ctx.endpoint, plateauOptions, seconds));
    for (const p of order) bySize.get(p.sendSocketSize!)!.push(await tcpStream(testbed, ctx.endpoint, p, seconds));
    plateau.push(await tcpStream(testbed, ctx.endpoint, plateauOptions, seconds));
  }
  return {
    points: points.map((p) => ({ requested: p.sendSocketSize!, mbps: mean(bySize.get(p.sendSocketSize!)!) })),
    plateau: mean(plateau),
  };
}

function printCheck(oneWayUs: number, points: ThroughputPoint[], plateau: number): boolean {
  const check = calibrationCheck(points, plateau);
  console.log(
    `    calibration check at ${oneWayUs} us: plateau ${fmt(plateau, 2)} Mbit/s; -s 100 at ${fmt(100 * check.atSmallest, 1)}% of it (rule: <= 80%); first reaches 99% at -s ${check.first99 ?? 'never'} (rule: 5000-7000): ${check.ok ? 'rule met' : `NOT met (${check.problems.join('; ')})`}`,
  );
  return check.ok;
}

/** (h) The regime with the default delay, as a table, and the calibration check. */
export async function benchRegime(
  ctx: DelayBenchContext,
  oneWayUs = CALIBRATED_ONE_WAY_DELAY_US,
  replicates = 2,
): Promise<void> {
  const started = load();
  const { points, plateau } = await measureRegime(ctx, oneWayUs, replicates);
  console.log(
    `(h) the regime: native TCP_STREAM vs requested -s with ${oneWayUs} us one way, mean of ${replicates} (3 s each; ${started} -> ${load()})`,
  );
  console.log('    -s requested   Mbit/s   % of plateau');
  for (const p of points)
    console.log(
      `    ${String(p.requested).padStart(12)}   ${fmt(p.mbps, 2).padStart(6)}   ${fmt((100 * p.mbps) / plateau, 1).padStart(6)}`,
    );
  printCheck(oneWayUs, points, plateau);
  console.log('');
}

/** Calibration: the regime at candidate delays, to pick the default by the rule (npm run bench -- --only cal). */
export async function benchCalibrate(ctx: DelayBenchContext, candidates: number[], replicates = 1): Promise<void> {
  console.log(`calibration: candidate one-way delays ${candidates.join(', ')} us, ${replicates} pass(es) each`);
  for (const d of candidates) {
    const { points, plateau } = await measureRegime(ctx, d, replicates);
    console.log(
      `  ${d} us (${load()}): ${points.map((p) => `${p.requested}:${fmt((100 * p.mbps) / plateau, 0)}%`).join(' ')}`,
    );
    printCheck(d, points, plateau);
  }
  console.log('');
}
