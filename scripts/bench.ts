#!/usr/bin/env node
// npm run bench: prints the figures the project promises, measured on the embedded testbed.
//  (a) harness fidelity: throughput through virtnet's measurement path / the same netperf command
//      run directly, same points, interleaved (target >= 0.99)
//  (b) sweep efficiency: wall time of a sweep / sum of its netperf test lengths (target <= 1.10;
//      the paper slept 70 s between points)
//  (c) the shaped link's TCP plateau vs 100BASE-TX's theoretical 94.15 Mbit/s (target within 1%)
//  (d) each available environment's start-up time, until netserver answers (the four, or the
//      environments and variants of --d-env, each started --d-starts times in turn: the median)
//  (e)-(h) the testbed's delay line: accuracy, plateau kept, CPU cost, the regime with the default
//      delay and the calibration check (scripts/bench-delay.ts); `cal` scans candidate delays
//  (i) blocked-design efficiency: a native,docker run in balanced blocks, every environment
//      restart and warm-up inside the wall time (target <= 1.05)
//  (j) interference detection: native,docker with the calibrated delay, undisturbed and then
//      disturbed by the bench at known times (scripts/bench-interference.ts): recall >= 95%,
//      false flags <= 2%, each disturbed point's mean within its undisturbed interval
// Options: --index N (testbed, default 1), --only a,b,c,d,e,f,g,h,i,j[,cal], --delay-cpu N|none,
//          --d-env native,kvm,kvm-microvm,... and --d-starts N (for d; default the four, 1 start),
//          --candidates US,US,... (for cal), --j-plan short|paper|FILE (default short: 12 points;
//          paper: the whole paper plan, over an hour; its disturbed run 42-44 min), --j-on S,
//          --j-off S (disturbance length and the quiet before each; default 15 and 20),
//          --j-disturbed-only (only the disturbed run: recall and its precision, in half the time),
//          --keep (leave the runs in the bench's temporary directory)

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { netperfArgs, parseNetperfOutput } from '../actions/lib/measure/netperf.ts';
import { PLAN_FORMAT_VERSION, type Plan, type Point, validatePlan } from '../actions/lib/plan/plan.ts';
import { runCommand } from '../actions/lib/core/proc.ts';
import { executeRun, localHosts, netperfProbe } from '../actions/lib/measure/session.ts';
import { loadRun } from '../actions/lib/measure/run-dir.ts';
import { mean, median, summarize } from '../actions/lib/core/stats.ts';
import { tcpGoodputCapacityMbit } from '../actions/lib/analyse/capacity.ts';
import { DEFAULT_PROBE_SECONDS, measureTask, type SweepIO } from '../actions/lib/measure/sweep.ts';
import type { EnvironmentContext } from '../actions/lib/measure/environment.ts';
import { nativeEnvironment } from '../env/native/native.ts';
import { ENVIRONMENTS, parseEnvironmentList } from '../env/registry.ts';
import { CALIBRATED_ONE_WAY_DELAY_US, testbedDown, testbedUp } from '../env/testbed/testbed.ts';
import { PLANS_DIR, REPO_DIR } from './cli/common.ts';
import { loadPlan } from '../actions/lib/plan/plan-file.ts';
import { benchInterference } from './bench-interference.ts';
import { benchAccuracy, benchCalibrate, benchPlateauAndCost, benchRegime } from './bench-delay.ts';

const { values } = parseArgs({
  options: {
    index: { type: 'string', default: '1' },
    only: { type: 'string', default: 'a,b,c,d,e,f,g,h,i,j' },
    'j-plan': { type: 'string', default: 'short' },
    'j-on': { type: 'string', default: '15' },
    'j-off': { type: 'string', default: '20' },
    'j-disturbed-only': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'delay-cpu': { type: 'string' },
    candidates: { type: 'string', default: '100,125,150,175,200' },
    'd-env': { type: 'string', default: 'all' },
    'd-starts': { type: 'string', default: '1' },
  },
});
const startupDrivers = parseEnvironmentList(values['d-env']!);
const startupStarts = Number(values['d-starts']);
if (!Number.isInteger(startupStarts) || startupStarts < 1 || startupStarts > 50)
  throw new Error(`--d-starts: expected a whole number from 1 to 50, got ${values['d-starts']}`);
const index = Number(values.index);
const only = new Set(values.only!.split(','));
const work = mkdtempSync(join(tmpdir(), 'virtnet-bench-'));
const fmt = (v: number, d = 2) => v.toFixed(d);

const testbed = await testbedUp({ index, rateMbit: 100 });
const server = testbed.layout.serverAddress;
const ports = { control: 12865, data: 12866 };
const context = (settings: Record<string, string> = {}): EnvironmentContext => ({
  serverAddress: server,
  ports,
  logDir: work,
  probe: netperfProbe(testbed.clientPrefix),
  readyTimeoutMs: 180_000,
  settings: { accel: 'auto', testbedIndex: String(index), ...settings },
  log: () => {},
});

function basePlan(overrides: Partial<Plan> & { sweeps: Plan['sweeps'] }): Plan {
  // The current format: a version-1 plan is read as environment-major, whatever design it names.
  return validatePlan({
    formatVersion: PLAN_FORMAT_VERSION,
    name: 'bench',
    testLengthSeconds: 2,
    replicates: 1,
    warmupSeconds: 0,
    retries: 2,
    order: { randomize: false, seed: 1 },
    ...overrides,
  });
}

try {
  console.log(`virtnet bench on testbed ${index} (${testbed.link.shaping})\n`);

  if (only.has('a')) {
    // The harness path (measureTask -> SweepIO.netperf -> parse) against netperf run by hand,
    // alternating which goes first so drift does not favour either.
    const plan = basePlan({
      testLengthSeconds: 3,
      sweeps: [{ test: 'TCP_STREAM', series: 'b', vary: 'sendSocketSize', from: 100, to: 100, step: 1 }],
    });
    const points: Point[] = [
      {
        id: 'TCP_STREAM:sendSocketSize=100',
        test: 'TCP_STREAM',
        series: 'b',
        parameter: 'sendSocketSize',
        value: 100,
        sendSocketSize: 100,
        messageSize: 131072,
      },
      {
        id: 'TCP_STREAM:sendSocketSize=4100',
        test: 'TCP_STREAM',
        series: 'b',
        parameter: 'sendSocketSize',
        value: 4100,
        sendSocketSize: 4100,
        messageSize: 131072,
      },
      {
        id: 'TCP_STREAM:sendSocketSize=16100',
        test: 'TCP_STREAM',
        series: 'b',
        parameter: 'sendSocketSize',
        value: 16100,
        sendSocketSize: 16100,
        messageSize: 131072,
      },
      {
        id: 'UDP_STREAM:messageSize=50',
        test: 'UDP_STREAM',
        series: 'b',
        parameter: 'messageSize',
        value: 50,
        messageSize: 50,
      },
      {
        id: 'UDP_STREAM:messageSize=1450',
        test: 'UDP_STREAM',
        series: 'b',
        parameter: 'messageSize',
        value: 1450,
        messageSize: 1450,
      },
    ];
    const env = await nativeEnvironment.start(context());
    // Both paths' exact argv are kept: the bench says whether they differ at all.
    const argvs = { harness: new Set<string>(), direct: new Set<string>() };
    const io: SweepIO = {
      netperf: (args, o) => {
        argvs.harness.add(args.join(' '));
        return runCommand([...testbed.clientPrefix, 'netperf', ...args], o);
      },
      append: () => {},
      now: () => new Date(),
    };
    const signal = new AbortController().signal;
    const direct = async (p: Point) => {
      const args = netperfArgs(p, env.endpoint, { testLengthSeconds: plan.testLengthSeconds, confidence: null });
      argvs.direct.add(args.join(' '));
      const r = await runCommand([...testbed.clientPrefix, 'netperf', ...args], { timeoutMs: 60_000 });
      return parseNetperfOutput(r.stdout).throughputMbps;
    };
    const viaHarness = async (p: Point) => {
      const rec = await measureTask(
        { ...plan },
        { environment: 'native', point: p, replicate: 1 },
        env.endpoint,
        io,
        signal,
        () => {},
      );
      if (rec?.status !== 'ok') throw new Error(`harness measurement failed: ${rec?.error}`);
      return rec.metrics!.throughputMbps;
    };
    const ratios: number[] = [];
    // Which test of a back-to-back pair reads higher, whichever path made it: the order effect.
    const firstOverSecond: number[] = [];
    // The first test of a point follows another point's test; the bench takes it (direct, not
    // counted) and compares it with the point's counted tests: the change-of-point effect.
    const changeOfPoint: number[] = [];
    // ABBA after that unrecorded first test: each path first in half of the pairs, and no counted
    // test right after a change of point (with 3 pairs, h-d, d-h, h-d, and no such test, the
    // harness went first twice, and always first after a change of point).
    console.log(
      '(a) harness fidelity: virtnet measurement path / netperf run directly (3 s tests; per point one uncounted test, then 4 pairs in ABBA order)',
    );
    try {
      for (const p of points) {
        const h: number[] = [];
        const d: number[] = [];
        const entry = await direct(p);
        for (let i = 0; i < 4; i++) {
          const harnessFirst = i === 0 || i === 3;
          const first = harnessFirst ? await viaHarness(p) : await direct(p);
          const second = harnessFirst ? await direct(p) : await viaHarness(p);
          (harnessFirst ? h : d).push(first);
          (harnessFirst ? d : h).push(second);
          firstOverSecond.push(first / second);
        }
        const ratio = mean(h) / mean(d);
        ratios.push(ratio);
        changeOfPoint.push(entry / mean([...h, ...d]));
        console.log(
          `    ${p.id.padEnd(32)} harness ${fmt(mean(h))}  direct ${fmt(mean(d))} Mbit/s  ratio ${fmt(ratio, 4)}`,
        );
      }
    } finally {
      await env.stop();
    }
    const same = argvs.harness.size === argvs.direct.size && [...argvs.harness].every((a) => argvs.direct.has(a));
    console.log(
      `  the two paths ran ${same ? 'byte-identical netperf command lines' : 'DIFFERENT command lines'} (${argvs.harness.size} distinct); first / second test of a pair, whichever path: ${fmt(mean(firstOverSecond), 4)}; a point's first test (right after another point's) / its counted tests: ${fmt(mean(changeOfPoint), 4)} (per point ${changeOfPoint.map((x) => fmt(x, 3)).join(', ')}; load ${loadavg()[0]!.toFixed(2)})`,
    );
    console.log(`  harness fidelity = ${fmt(mean(ratios), 4)} (min ${fmt(Math.min(...ratios), 4)}; target >= 0.99)\n`);
  }

  if (only.has('b')) {
    // A real run through executeRun (host facts, environment start, appends with fsync, stop).
    const plan = basePlan({
      testLengthSeconds: 2,
      replicates: 2,
      warmupSeconds: 1,
      order: { randomize: true, seed: 3 },
      sweeps: [
        {
          test: 'TCP_STREAM',
          series: 'b',
          vary: 'sendSocketSize',
          from: 100,
          to: 16100,
          step: 4000,
          messageSize: 131072,
        },
        { test: 'UDP_STREAM', series: 'b', vary: 'messageSize', from: 50, to: 1950, step: 600 },
      ],
    });
    const tasks = 9 * plan.replicates;
    const started = performance.now();
    const summary = await executeRun({
      outDir: join(work, 'efficiency'),
      plan,
      planSource: 'bench',
      resume: false,
      environments: [nativeEnvironment],
      serverAddress: server,
      hosts: localHosts(testbed.clientPrefix),
      link: testbed.link,
      settings: { testbedIndex: String(index) },
      readyTimeoutMs: 30_000,
      repoDir: REPO_DIR,
      signal: new AbortController().signal,
      onEvent: () => {},
    });
    const wall = (performance.now() - started) / 1000;
    // The round-trip probes after each start (a TCP_RR and a UDP_RR) are measurements too.
    const probes = loadRun(join(work, 'efficiency')).results.probes.length;
    const netperfSeconds = tasks * plan.testLengthSeconds + plan.warmupSeconds + probes * DEFAULT_PROBE_SECONDS;
    console.log(
      `(b) sweep efficiency: ${tasks} measurements x ${plan.testLengthSeconds} s + ${plan.warmupSeconds} s warm-up + ${probes} round-trip probes x ${DEFAULT_PROBE_SECONDS} s = ${netperfSeconds} s of netperf; the whole run took ${fmt(wall)} s (status ${summary.status})`,
    );
    console.log(`  sweep efficiency = ${fmt(wall / netperfSeconds, 3)} (target <= 1.10)\n`);
  }

  if (only.has('c')) {
    const env = await nativeEnvironment.start(context());
    const samples: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const args = netperfArgs({ test: 'TCP_STREAM', messageSize: 131072 }, env.endpoint, {
          testLengthSeconds: 5,
          confidence: null,
        });
        const r = await runCommand([...testbed.clientPrefix, 'netperf', ...args], { timeoutMs: 60_000 });
        samples.push(parseNetperfOutput(r.stdout).throughputMbps);
      }
    } finally {
      await env.stop();
    }
    const s = summarize(samples);
    console.log(
      `(c) TCP plateau on the shaped link (TCP_STREAM, default socket sizes, 5 x 5 s): ${samples.map((v) => fmt(v)).join(', ')} Mbit/s`,
    );
    console.log(
      `  mean ${fmt(s.mean, 3)} +/- ${fmt(s.ciHalfWidth ?? 0, 3)} (95% CI) vs theoretical ${fmt(tcpGoodputCapacityMbit(100), 3)}: ${fmt((100 * (s.mean - tcpGoodputCapacityMbit(100))) / tcpGoodputCapacityMbit(100), 2)}% (target within 1%)\n`,
    );
  }

  if (only.has('d')) {
    console.log(
      `(d) environment start-up, until netserver answers a netperf control probe (${startupStarts} start(s) each, in turn; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')})`,
    );
    const available = [];
    for (const driver of startupDrivers) {
      const a = await driver.available(context().settings);
      if (a.ok) available.push(driver);
      else console.log(`    ${driver.name.padEnd(12)} not available: ${a.reason}`);
    }
    const seconds = new Map<string, number[]>(available.map((d) => [d.name, []]));
    const summaries = new Map<string, string>();
    // In turn, so that a change in the machine's load falls on every environment alike.
    for (let i = 0; i < startupStarts; i++) {
      for (const driver of available) {
        const started = await driver.start(context());
        try {
          seconds.get(driver.name)!.push(started.description.startupSeconds ?? Number.NaN);
          summaries.set(driver.name, started.description.summary);
        } finally {
          await started.stop();
        }
      }
    }
    for (const driver of available) {
      const all = seconds.get(driver.name)!;
      console.log(
        `    ${driver.name.padEnd(12)} median ${fmt(median(all))} s  [${all.map((v) => fmt(v)).join(', ')}]  (${summaries.get(driver.name)})`,
      );
    }
    console.log('');
  }

  if (['e', 'f', 'g', 'h', 'cal'].some((k) => only.has(k))) {
    const cpuFlag = values['delay-cpu'];
    const delayLineCpu = cpuFlag === undefined ? undefined : cpuFlag === 'none' ? null : Number(cpuFlag);
    const env = await nativeEnvironment.start(context());
    const ctx = { index, endpoint: env.endpoint, delayLineCpu };
    try {
      if (only.has('e')) await benchAccuracy(ctx);
      if (only.has('f') || only.has('g')) await benchPlateauAndCost(ctx);
      if (only.has('h')) await benchRegime(ctx);
      if (only.has('cal')) await benchCalibrate(ctx, values.candidates!.split(',').map(Number));
    } finally {
      await env.stop();
    }
  }
  if (only.has('i')) {
    // The blocked design restarts each environment once per block: this is what that costs.
    const drivers = ENVIRONMENTS.filter((d) => d.name === 'native' || d.name === 'docker');
    const usable = [];
    for (const d of drivers) if ((await d.available(context().settings)).ok) usable.push(d);
    const plan = basePlan({
      testLengthSeconds: 3,
      replicates: 3,
      warmupSeconds: 1,
      design: 'blocked',
      order: { randomize: true, seed: 5 },
      sweeps: [
        {
          test: 'TCP_STREAM',
          series: 'e',
          vary: 'sendSocketSize',
          from: 100,
          to: 16100,
          step: 4000,
          messageSize: 131072,
        },
        { test: 'UDP_STREAM', series: 'e', vary: 'messageSize', from: 50, to: 1950, step: 600 },
      ],
    });
    let starts = 0;
    // Where the time beyond netperf's own goes: each environment's start (start -> ready) and stop
    // (the last event before -> stopped), and netperf's set-up and teardown around each test.
    let startingSeconds = 0;
    let stoppingSeconds = 0;
    let lastEventAt = performance.now();
    let startAskedAt = lastEventAt;
    const started = performance.now();
    const summary = await executeRun({
      outDir: join(work, 'blocked'),
      plan,
      planSource: 'bench',
      resume: false,
      environments: usable,
      serverAddress: server,
      hosts: localHosts(testbed.clientPrefix),
      link: testbed.link,
      settings: { accel: 'auto', testbedIndex: String(index) },
      readyTimeoutMs: 60_000,
      repoDir: REPO_DIR,
      signal: new AbortController().signal,
      onEvent: (e) => {
        const at = performance.now();
        if (e.kind === 'environment-start') startAskedAt = at;
        if (e.kind === 'environment-ready') {
          starts++;
          startingSeconds += (at - startAskedAt) / 1000;
        }
        if (e.kind === 'environment-stop') stoppingSeconds += (at - lastEventAt) / 1000;
        lastEventAt = at;
      },
    });
    const wall = (performance.now() - started) / 1000;
    const tasks = summary.measured + summary.failed;
    const run = loadRun(join(work, 'blocked'));
    const probes = run.results.probes.length;
    const netperfSeconds =
      tasks * plan.testLengthSeconds + starts * plan.warmupSeconds + probes * DEFAULT_PROBE_SECONDS;
    console.log(
      `(i) blocked design on ${usable.map((d) => d.name).join(',')}: ${plan.replicates} blocks, ${starts} environment starts, ${tasks} measurements x ${plan.testLengthSeconds} s + ${starts} x ${plan.warmupSeconds} s warm-up + ${probes} round-trip probes x ${DEFAULT_PROBE_SECONDS} s = ${netperfSeconds} s of netperf; the run took ${fmt(wall)} s (status ${summary.status})`,
    );
    const span = (r: { startedAt: string; finishedAt: string }) =>
      (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    const netperfAround =
      [...run.results.records, ...run.results.probes].reduce((sum, r) => sum + span(r), 0) -
      (tasks * plan.testLengthSeconds + probes * DEFAULT_PROBE_SECONDS);
    console.log(`  efficiency with restarts = ${fmt(wall / netperfSeconds, 3)} (target <= 1.05)`);
    console.log(
      `  beyond netperf's test time: environment starts ${fmt(startingSeconds)} s, stops ${fmt(stoppingSeconds)} s, netperf set-up and teardown around the tests ${fmt(netperfAround)} s, the rest ${fmt(wall - netperfSeconds - startingSeconds - stoppingSeconds - netperfAround)} s (load ${loadavg()[0]!.toFixed(2)})\n`,
    );
  }
  if (only.has('j')) {
    // The paper plan's thresholds and re-measurement, on a testbed with the calibrated delay.
    await testbedDown(index);
    const delayed = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: CALIBRATED_ONE_WAY_DELAY_US });
    const paper = loadPlan('paper', PLANS_DIR).plan;
    const which = values['j-plan']!;
    const plan =
      which === 'short'
        ? validatePlan({
            ...paper,
            name: 'bench-j-short',
            formatVersion: PLAN_FORMAT_VERSION,
            replicates: 3,
            precision: { halfWidthPercent: 1, maxReplicates: 4, budgetMinutes: 1 },
            sweeps: [
              {
                test: 'TCP_STREAM',
                series: 'from-100',
                vary: 'sendSocketSize',
                from: 100,
                to: 20000,
                step: 3300,
                messageSize: 131072,
                remoteSocketSize: 131072,
              },
              {
                test: 'UDP_STREAM',
                series: 'from-50',
                vary: 'requestSize',
                from: 50,
                to: 1950,
                step: 475,
                messageSize: 3100,
              },
            ],
          })
        : loadPlan(which, PLANS_DIR).plan;
    const drivers = [];
    for (const d of ENVIRONMENTS.filter((e) => e.name === 'native' || e.name === 'docker'))
      if ((await d.available(context().settings)).ok) drivers.push(d);
    await benchInterference({
      index,
      testbed: delayed,
      work,
      drivers,
      plan,
      onSeconds: Number(values['j-on']),
      offSeconds: Number(values['j-off']),
      disturbedOnly: values['j-disturbed-only'],
    });
  }
} finally {
  await testbedDown(index);
  // --keep leaves the runs (bench j's undisturbed and disturbed run directories) for a closer look.
  if (values.keep) console.log(`runs kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
