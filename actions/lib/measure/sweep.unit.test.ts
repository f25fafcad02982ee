// The sweep loop's fault handling with fakes (no processes): the deadline on a start() that never
// returns, a teardown that throws, an abort mid-measurement, and a resume's skip set. The same
// faults with real processes are in faults.system.test.ts and scripts/cli/faults.system.test.ts.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EnvironmentDriver, StartedEnvironment } from './environment.ts';
import { type Plan, validatePlan } from '../plan/plan.ts';
import {
  doneTasks,
  environmentMajorTurns,
  measuredValues,
  plannedTasks,
  scheduleSettings,
  taskKey,
} from '../plan/schedule.ts';
import type { CommandResult } from '../core/proc.ts';
import { latestRecords, type MeasurementRecord, type RttProbeRecord, validateRecord } from './records.ts';
import { describeEvent } from './sweep-events.ts';
import { summarizePoints } from '../analyse/aggregate.ts';
import { runSweep, type SweepEvent, type SweepIO, type SweepRequest } from './sweep.ts';

const tcpOutput = readFileSync(new URL('./fixtures/netperf/tcp-stream-s100.txt', import.meta.url), 'utf8');
const plan: Plan = validatePlan({
  formatVersion: 2,
  name: 'fake',
  testLengthSeconds: 1,
  replicates: 2,
  retries: 0,
  order: { randomize: true, seed: 3 },
  sweeps: [
    { test: 'TCP_STREAM', series: 's', vary: 'sendSocketSize', from: 100, to: 8100, step: 4000, messageSize: 131072 },
  ],
});

function fakeDriver(
  name: string,
  behaviour: { startMs?: number; stopThrows?: boolean; stops?: string[] } = {},
): EnvironmentDriver {
  return {
    name,
    title: name,
    available: async () => ({ ok: true }),
    cleanup: async () => [],
    start: async () => {
      await new Promise((r) => setTimeout(r, behaviour.startMs ?? 0));
      const started: StartedEnvironment = {
        endpoint: { address: '198.18.0.1', controlPort: 12865, dataPort: 12866 },
        description: { name, summary: name, details: {}, accelerator: 'none', startupSeconds: 0 },
        stop: async () => {
          behaviour.stops?.push(name);
          if (behaviour.stopThrows) throw new Error('ip link del: device busy');
        },
      };
      return started;
    },
  };
}

/** A fake netperf; `throughput` (by -s value and call number) replaces the fixture's 94.07 Mbit/s. */
function fakeIO(
  records: MeasurementRecord[],
  onNetperf?: () => void,
  throughput?: (socketSize: number, call: number) => number,
): SweepIO {
  let calls = 0;
  return {
    netperf: async (args): Promise<CommandResult> => {
      onNetperf?.();
      calls++;
      const s = Number(args[args.indexOf('-s') + 1]);
      const stdout = throughput
        ? tcpOutput.replace(/^THROUGHPUT=.*$/m, `THROUGHPUT=${throughput(s, calls).toFixed(2)}`)
        : tcpOutput;
      return {
        argv: args,
        exitCode: 0,
        signal: null,
        stdout,
        stderr: '',
        timedOut: false,
        aborted: false,
        durationMs: 1,
      };
    },
    append: (r) => records.push(r),
    now: () => new Date(),
  };
}

function request(environments: EnvironmentDriver[], extra: Partial<SweepRequest> = {}): SweepRequest {
  return {
    plan,
    environments,
    done: new Set(),
    measured: new Map(),
    signal: new AbortController().signal,
    onEvent: () => {},
    context: {
      serverAddress: '198.18.0.1',
      ports: plan.ports,
      logDir: '/nonexistent',
      probe: async () => true,
      readyTimeoutMs: 100,
      settings: {},
      log: () => {},
    },
    ...extra,
  };
}

describe('runSweep under faults', () => {
  it('abandons a start() past its deadline, stops it when it comes up late, and measures the next environment', async () => {
    const stops: string[] = [];
    const records: MeasurementRecord[] = [];
    const outcome = await runSweep(
      request([fakeDriver('slow', { startMs: 600, stops }), fakeDriver('fast')], { startGraceMs: 100 }),
      fakeIO(records),
    );
    expect(outcome.environmentErrors.slow).toBe('slow: did not become ready within 0.2 s; gave up waiting for it');
    expect(records.map((r) => r.environment)).toEqual(Array(6).fill('fast'));
    await new Promise((r) => setTimeout(r, 700));
    expect(stops).toEqual(['slow']);
  });

  it('records a teardown that throws and still measures the environments after it', async () => {
    const records: MeasurementRecord[] = [];
    const outcome = await runSweep(request([fakeDriver('a', { stopThrows: true }), fakeDriver('b')]), fakeIO(records));
    expect(outcome.environmentErrors.a).toBe(
      'teardown failed: ip link del: device busy (virtnet cleanup removes what is left)',
    );
    expect(records.filter((r) => r.environment === 'b')).toHaveLength(6);
  });

  it('does not record the measurement an abort cut short, and stops the environment', async () => {
    const controller = new AbortController();
    const records: MeasurementRecord[] = [];
    const stops: string[] = [];
    let calls = 0;
    const outcome = await runSweep(
      request([fakeDriver('a', { stops })], { signal: controller.signal }),
      fakeIO(records, () => {
        if (++calls === 3) controller.abort('SIGINT');
      }),
    );
    expect(records).toHaveLength(2);
    expect(outcome.interrupted).toBe(true);
    expect(stops).toEqual(['a']);
  });

  it('runs no warm-up and no measurement when the signal came during the start (Ctrl-C while an environment starts)', async () => {
    const controller = new AbortController();
    const driver = fakeDriver('a', { stops: [] });
    const stops: string[] = [];
    const slowStart: EnvironmentDriver = {
      ...driver,
      start: async (ctx) => {
        const started = await driver.start(ctx);
        controller.abort('SIGINT'); // the start finishes, but the user has asked to stop meanwhile
        return { ...started, stop: async () => void stops.push('a') };
      },
    };
    const events: string[] = [];
    let netperfCalls = 0;
    const outcome = await runSweep(
      request([slowStart], {
        plan: { ...plan, warmupSeconds: 2 },
        signal: controller.signal,
        onEvent: (e) => events.push(e.kind),
      }),
      fakeIO([], () => netperfCalls++),
    );
    expect(netperfCalls).toBe(0);
    expect(events).not.toContain('warmup');
    expect(outcome).toMatchObject({ interrupted: true, measured: 0 });
    expect(stops).toEqual(['a']);
  });

  it('skips exactly the done set on resume, in the same seeded order', async () => {
    const all = plannedTasks(plan, scheduleSettings(plan), ['a', 'b'], new Map());
    const key = (t: (typeof all)[number]) =>
      taskKey({ environment: t.environment, pointId: t.point.id, replicate: t.replicate });
    const done = new Set(all.filter((_, i) => i % 2 === 0).map(key));
    const records: MeasurementRecord[] = [];
    await runSweep(request([fakeDriver('a'), fakeDriver('b')], { done }), fakeIO(records));
    expect(records.map((r) => taskKey(r))).toEqual(all.filter((_, i) => i % 2 === 1).map(key));
  });
});

describe('the blocked design', () => {
  it('alternates environments block by block, rotating which one leads, each live once per block', async () => {
    const events: string[] = [];
    const records: MeasurementRecord[] = [];
    await runSweep(
      request([fakeDriver('a'), fakeDriver('b'), fakeDriver('c')], {
        plan: { ...plan, replicates: 3 },
        onEvent: (e) => {
          if (e.kind === 'environment-start') events.push(`${e.environment}${e.block}`);
        },
      }),
      fakeIO(records),
    );
    expect(events).toEqual(['a1', 'b1', 'c1', 'b2', 'c2', 'a2', 'c3', 'a3', 'b3']);
    // Within a turn every point once, in a fresh order per environment and block.
    const turn = (env: string, block: number) =>
      records.filter((r) => r.environment === env && r.replicate === block).map((r) => r.value);
    expect(
      turn('a', 1)
        .slice()
        .sort((x, y) => x - y),
    ).toEqual([100, 4100, 8100]);
    const orders = new Set(['a', 'b', 'c'].flatMap((e) => [1, 2, 3].map((b) => turn(e, b).join(','))));
    expect(orders.size).toBeGreaterThan(1);
    // Replicate = block: records of block 1 all come before any record of block 2.
    const firstOf2 = records.findIndex((r) => r.replicate === 2);
    expect(records.slice(firstOf2).every((r) => r.replicate >= 2)).toBe(true);
  });

  it('keeps a lone environment live across its blocks: one start, one stop (a runner pair leg releases the server only once)', async () => {
    const stops: string[] = [];
    const events: string[] = [];
    const records: MeasurementRecord[] = [];
    await runSweep(
      request([fakeDriver('a', { stops })], { plan: { ...plan, replicates: 3 }, onEvent: (e) => events.push(e.kind) }),
      fakeIO(records),
    );
    expect(records.map((r) => r.replicate)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(events.filter((k) => k === 'environment-ready')).toHaveLength(1);
    expect(stops).toEqual(['a']);
  });

  it('environment-major keeps the old order: all of one environment, then the next', async () => {
    const events: string[] = [];
    const records: MeasurementRecord[] = [];
    const major = { ...plan, design: 'environment-major' as const };
    await runSweep(
      request([fakeDriver('a'), fakeDriver('b')], {
        plan: major,
        onEvent: (e) => {
          if (e.kind === 'environment-start') events.push(e.environment);
        },
      }),
      fakeIO(records),
    );
    expect(events).toEqual(['a', 'b']);
    expect(records.map((r) => r.environment)).toEqual([...Array(6).fill('a'), ...Array(6).fill('b')]);
    expect(records.filter((r) => r.environment === 'a').map((r) => r.replicate)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(
      environmentMajorTurns(major, scheduleSettings(major), ['a', 'b'], new Set()).map((t) => t.tasks.length),
    ).toEqual([6, 6]);
  });

  it('adds blocks only to points wider than the precision target, up to the maximum', async () => {
    // -s 4100 alternates 94/95.5 Mbit/s (wider than 1% until its 6th replicate; no replicate an
    // outlier: 1.5 Mbit/s is within 3.5 robust SDs); the others are steady.
    let at4100 = 0;
    const noisy = (s: number, call: number) => (s === 4100 ? (at4100++ % 2 === 0 ? 94 : 95.5) : 94 + (call % 3) * 0.01);
    const precise = {
      ...plan,
      replicates: 3,
      precision: { halfWidthPercent: 1, maxReplicates: 6, budgetMinutes: null },
    };
    const records: MeasurementRecord[] = [];
    await runSweep(request([fakeDriver('a')], { plan: precise }), fakeIO(records, undefined, noisy));
    const countOf = (v: number) => records.filter((r) => r.value === v).length;
    expect(countOf(100)).toBe(3);
    expect(countOf(8100)).toBe(3);
    expect(countOf(4100)).toBe(6);
    expect(Math.max(...records.map((r) => r.replicate))).toBe(6);
  });

  it('a resume after an interruption in an added block ends with exactly the tasks an uninterrupted run makes', async () => {
    // -s 4100 scatters without an outlier (see the test before).
    const noisy = (s: number, call: number) => (s === 4100 ? (call % 2 === 0 ? 94 : 95.5) : 94);
    const precise = {
      ...plan,
      replicates: 2,
      precision: { halfWidthPercent: 1, maxReplicates: 4, budgetMinutes: null },
    };
    const whole: MeasurementRecord[] = [];
    await runSweep(request([fakeDriver('a'), fakeDriver('b')], { plan: precise }), fakeIO(whole, undefined, noisy));

    const controller = new AbortController();
    const first: MeasurementRecord[] = [];
    let calls = 0;
    await runSweep(
      request([fakeDriver('a'), fakeDriver('b')], { plan: precise, signal: controller.signal }),
      fakeIO(
        first,
        () => {
          if (++calls === whole.length - 1) controller.abort('SIGKILL');
        },
        noisy,
      ),
    );
    expect(first.length).toBeLessThan(whole.length);
    const { measuredValues } = await import('../plan/schedule.ts');
    const done = new Set(first.map((r) => taskKey(r)));
    const rest: MeasurementRecord[] = [];
    await runSweep(
      request([fakeDriver('a'), fakeDriver('b')], { plan: precise, done, measured: measuredValues(first) }),
      fakeIO(rest, undefined, noisy),
    );
    const keys = (rs: MeasurementRecord[]) => rs.map((r) => taskKey(r)).sort();
    expect(keys([...first, ...rest])).toEqual(keys(whole));
    expect(new Set(keys([...first, ...rest])).size).toBe(first.length + rest.length);
  });

  it('probes each start with TCP_RR and UDP_RR, records a failed probe and goes on, and keeps probes out of the sweep', async () => {
    const rr = (name: string) => readFileSync(new URL(`./fixtures/netperf/${name}`, import.meta.url), 'utf8');
    const records: MeasurementRecord[] = [];
    const probes: RttProbeRecord[] = [];
    const base = fakeIO(records);
    let udpCalls = 0;
    const result = (args: string[], exitCode: number, stdout: string, stderr = ''): CommandResult => ({
      argv: args,
      exitCode,
      signal: null,
      stdout,
      stderr,
      timedOut: false,
      aborted: false,
      durationMs: 1,
    });
    const io: SweepIO = {
      ...base,
      netperf: async (args, o) => {
        const test = args[args.indexOf('-t') + 1];
        if (test === 'TCP_RR') return result(args, 0, rr('tcp-rr.txt'));
        // The second start's UDP_RR fails as netperf reports a lost datagram.
        if (test === 'UDP_RR')
          return ++udpCalls === 2
            ? result(args, 1, '', 'netperf: receive_response: no response received. errno 0 counter 0')
            : result(args, 0, rr('udp-rr.txt'));
        return base.netperf(args, o);
      },
      appendProbe: (p) => probes.push(p),
    };
    const outcome = await runSweep(request([fakeDriver('a'), fakeDriver('b')], { session: 3 }), io);
    const planned = plannedTasks(plan, scheduleSettings(plan), ['a', 'b'], new Map()).length;
    expect(records).toHaveLength(planned);
    expect(outcome.measured).toBe(planned);
    // Two blocks x two environments, each start probed once per test.
    expect(probes.map((p) => `${p.environment}/${p.block}/${p.test}`).sort()).toEqual([
      'a/1/TCP_RR',
      'a/1/UDP_RR',
      'a/2/TCP_RR',
      'a/2/UDP_RR',
      'b/1/TCP_RR',
      'b/1/UDP_RR',
      'b/2/TCP_RR',
      'b/2/UDP_RR',
    ]);
    const failed = probes.filter((p) => p.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      test: 'UDP_RR',
      metrics: null,
      error: expect.stringMatching(/no response received/),
    });
    expect(
      probes.every((p) => p.session === 3 && p.kind === 'rtt-probe' && p.command.join(' ').includes(`-t ${p.test}`)),
    ).toBe(true);
    expect(probes.find((p) => p.status === 'ok' && p.test === 'TCP_RR')?.metrics?.meanLatencyMicroseconds).toBe(77.2);
  });

  it('makes no probe when the IO cannot record one', async () => {
    const tests: string[] = [];
    const io = fakeIO([]);
    await runSweep(request([fakeDriver('a')]), {
      ...io,
      netperf: async (args, o) => (tests.push(args[args.indexOf('-t') + 1]!), io.netperf(args, o)),
    });
    expect(tests.filter((t) => t.endsWith('_RR'))).toEqual([]);
  });
});

describe('interference on record', () => {
  /**
   * A host sampler: each look adds 100 ticks since the one before, another program's user time
   * when `busyNow()` says so, idle time otherwise.
   */
  function busySampler(busyNow: () => boolean): NonNullable<SweepIO['sampleHost']> {
    let ticks = { user: 0, idle: 0 };
    return () => {
      const b = busyNow();
      ticks = { user: ticks.user + (b ? 100 : 0), idle: ticks.idle + (b ? 0 : 100) };
      return {
        cpu: { user: ticks.user, nice: 0, system: 0, idle: ticks.idle, iowait: 0, irq: 0, softirq: 0, steal: 0 },
        cores: 2,
        ownTicks: 0,
        othersTicks: ticks.user,
        nicedOthersTicks: 0,
        loadAverage1: 0.2,
      };
    };
  }

  /**
   * A host whose CPUs another program keeps busy during the netperf calls `busy` names (by call
   * number): each sample adds 100 ticks of idle, or of user time, since the one before.
   */
  function disturbedHost(
    io: SweepIO,
    busy: (call: number) => boolean,
    fails: (call: number) => boolean = () => false,
  ): SweepIO {
    let calls = 0;
    return {
      ...io,
      netperf: async (args, o) => {
        calls++;
        const r = await io.netperf(args, o);
        return fails(calls) ? { ...r, exitCode: 1, stdout: '', stderr: 'netperf: connection refused' } : r;
      },
      sampleHost: busySampler(() => busy(calls)),
    };
  }
  const one = { ...plan, replicates: 1, order: { randomize: false, seed: 1 } };

  it('flags the measurements taken while the host was busy, and records every measurement', async () => {
    const records: MeasurementRecord[] = [];
    const lines: string[] = [];
    await runSweep(
      request([fakeDriver('a')], {
        plan: one,
        onEvent: (e) => {
          if (e.kind === 'measured') lines.push(describeEvent(e).text);
        },
      }),
      disturbedHost(fakeIO(records), (call) => call === 2),
    );
    expect(records.map((r) => r.interference?.flagged)).toEqual([false, true, false]);
    expect(records[1]!.interference).toMatchObject({
      othersBusyPercent: 100,
      userPercent: 100,
      remeasurement: 0,
      reasons: ['others busy 100% > 50%'],
    });
    expect(lines[1]).toMatch(/\[flagged: others busy 100% > 50%\]/);
    expect(lines[0]).not.toMatch(/flagged/);
    // What is appended reads back through the record schema, and a record without it still does.
    for (const r of records)
      expect(validateRecord(JSON.parse(JSON.stringify(r)), 'results.jsonl line 1').interference).toEqual(
        r.interference,
      );
    const { interference: _, ...older } = records[0]!;
    expect(validateRecord(JSON.parse(JSON.stringify(older)), 'results.jsonl line 1').interference).toBeUndefined();
    expect(() =>
      validateRecord(
        { ...JSON.parse(JSON.stringify(records[0])), interference: { ...records[0]!.interference, stealPercent: 140 } },
        'results.jsonl line 7',
      ),
    ).toThrow(/results.jsonl line 7.*interference\.stealPercent/s);
  });

  it('re-measures a flagged point a bounded number of times; the latest counts, nothing is lost, and a resume redoes nothing', async () => {
    const again = { ...one, interference: { ...one.interference, remeasureFlagged: 2 } };
    const records: MeasurementRecord[] = [];
    // The retakes come after the turn's other tasks, one pass after another: calls 1-3 are -s 100,
    // 4100 and 8100, calls 4-5 the first retakes of 100 and 4100, calls 6-7 the second. -s 100 is
    // disturbed twice (calls 1, 4) and quiet the third time; -s 4100 is disturbed every time
    // (calls 2, 5, 7): three records, the last counts.
    await runSweep(
      request([fakeDriver('a')], { plan: again }),
      disturbedHost(fakeIO(records), (call) => [1, 2, 4, 5, 7].includes(call)),
    );
    expect(records.map((r) => [r.value, r.interference?.remeasurement, r.interference?.flagged])).toEqual([
      [100, 0, true],
      [4100, 0, true],
      [8100, 0, false],
      [100, 1, true],
      [4100, 1, true],
      [100, 2, false],
      [4100, 2, true],
    ]);
    // Each retake came at least one other measurement after the one it retakes.
    const at = (value: number, n: number) =>
      records.findIndex((r) => r.value === value && r.interference?.remeasurement === n);
    expect(at(100, 1) - at(100, 0)).toBeGreaterThan(1);
    expect(at(4100, 1) - at(4100, 0)).toBeGreaterThan(1);
    const latest = latestRecords(records);
    expect(latest.map((r) => [r.value, r.interference?.remeasurement]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [100, 2],
      [4100, 2],
      [8100, 0],
    ]);
    const done = doneTasks(latest, again.interference.remeasureFlagged);
    expect(done).toEqual(new Set(records.slice(0, 3).map((r) => taskKey(r))));
    const resumed: MeasurementRecord[] = [];
    await runSweep(
      request([fakeDriver('a')], { plan: again, done, measured: measuredValues(latest) }),
      disturbedHost(fakeIO(resumed), () => true),
    );
    expect(resumed).toEqual([]);
  });

  /** A host whose n-th look (1-based, every sampleHost call) finds it busy when `busy(n)`. */
  function hostByLook(io: SweepIO, busy: (look: number) => boolean): SweepIO & { looks: () => number } {
    let looks = 0;
    return { ...io, looks: () => looks, sampleHost: busySampler(() => busy(++looks)) };
  }

  it('waits for a quiet host before a retake, in bounded looks, and says how long', async () => {
    const waiting = { ...one, interference: { ...one.interference, remeasureFlagged: 1, retakeQuietSeconds: 5 } };
    const records: MeasurementRecord[] = [];
    const events: SweepEvent[] = [];
    // Looks 1-6 are before and after the three calls (look 4: -s 4100 disturbed); look 7 starts the
    // wait, looks 8-10 find the host still busy, look 11 quiet; looks 12-13 are the retake's.
    const io = hostByLook(fakeIO(records), (look) => [4, 8, 9, 10].includes(look));
    await runSweep(request([fakeDriver('a')], { plan: waiting, quietLookMs: 10, onEvent: (e) => events.push(e) }), io);
    expect(records.map((r) => [r.value, r.interference?.remeasurement, r.interference?.flagged])).toEqual([
      [100, 0, false],
      [4100, 0, true],
      [8100, 0, false],
      [4100, 1, false],
    ]);
    expect(io.looks()).toBe(13);
    const retake = events.find((e) => e.kind === 'remeasure');
    expect(retake).toMatchObject({ quietWait: { quiet: true } });
    if (retake?.kind !== 'remeasure') throw new Error('no retake event');
    expect(retake.quietWait!.seconds).toBeGreaterThanOrEqual(0.04);
    expect(describeEvent(retake).text).toMatch(/the host was quiet after \d+\.\d s/);

    // A host that stays busy: the wait ends at its bound (5 looks of 10 ms), and the retake is taken all the same.
    const busyRecords: MeasurementRecord[] = [];
    const busyEvents: SweepEvent[] = [];
    const busyIO = hostByLook(fakeIO(busyRecords), (look) => look === 4 || look >= 7);
    await runSweep(
      request([fakeDriver('a')], {
        plan: { ...waiting, interference: { ...waiting.interference, retakeQuietSeconds: 0.05 } },
        quietLookMs: 10,
        onEvent: (e) => busyEvents.push(e),
      }),
      busyIO,
    );
    expect(busyIO.looks()).toBe(6 + 1 + 5 + 2);
    expect(busyEvents.find((e) => e.kind === 'remeasure')).toMatchObject({ quietWait: { quiet: false } });
    expect(busyRecords.map((r) => r.interference?.remeasurement)).toEqual([0, 0, 0, 1]);

    // Without retakeQuietSeconds nothing waits: the retake's looks follow the turn's at once.
    const plainIO = hostByLook(fakeIO([]), (look) => look === 4);
    const plainEvents: SweepEvent[] = [];
    await runSweep(
      request([fakeDriver('a')], {
        plan: { ...waiting, interference: { ...waiting.interference, retakeQuietSeconds: 0 } },
        onEvent: (e) => plainEvents.push(e),
      }),
      plainIO,
    );
    expect(plainIO.looks()).toBe(8);
    expect(plainEvents.find((e) => e.kind === 'remeasure')).not.toHaveProperty('quietWait');
  });

  it('on a resume, measures again a flagged measurement whose retake the stop cut off, and only that one', async () => {
    const again = { ...one, interference: { ...one.interference, remeasureFlagged: 2 } };
    const records: MeasurementRecord[] = [];
    const controller = new AbortController();
    let calls = 0;
    // -s 4100 (call 2) is disturbed; the run is stopped during its retake (call 4, after the turn's
    // last task, -s 8100), which is therefore not recorded.
    const outcome = await runSweep(
      request([fakeDriver('a')], { plan: again, signal: controller.signal }),
      disturbedHost(
        fakeIO(records, () => {
          if (++calls === 4) controller.abort('SIGINT');
        }),
        (call) => call === 2,
      ),
    );
    expect(outcome.interrupted).toBe(true);
    expect(records.map((r) => [r.value, r.interference?.flagged])).toEqual([
      [100, false],
      [4100, true],
      [8100, false],
    ]);
    const latest = latestRecords(records);
    const done = doneTasks(latest, 2);
    expect([...done].sort()).toEqual([records[0]!, records[2]!].map((r) => taskKey(r)).sort());
    const resumed: MeasurementRecord[] = [];
    await runSweep(
      request([fakeDriver('a')], { plan: again, done, measured: measuredValues(latest) }),
      disturbedHost(fakeIO(resumed), () => false),
    );
    expect(resumed.map((r) => [r.value, r.interference?.flagged])).toEqual([[4100, false]]);
    // A flagged record whose retakes were used up stays done: the bound holds across sessions.
    expect(
      doneTasks([{ ...records[1]!, interference: { ...records[1]!.interference!, remeasurement: 2 } }], 2).size,
    ).toBe(1);
  });

  it('flags a measurement whose path waited for a CPU, re-measures it, keeps it with its reason, and leaves it out of every mean', async () => {
    const plan2 = {
      ...one,
      interference: {
        ...one.interference,
        maxWaitPercent: 10,
        maxLateReleasePercent: 5,
        pathOthersBusyPercent: 10,
        remeasureFlagged: 2,
      },
    };
    const records: MeasurementRecord[] = [];
    const roots: (readonly number[])[] = [];
    let calls = 0;
    // The host is busy with another program during call 2 as well (others busy 100%).
    const base = disturbedHost(
      fakeIO(records, undefined, (_, call) => (call === 2 ? 60 : 94)),
      (call) => call === 2,
    );
    const io: SweepIO = {
      ...base,
      netperf: async (args, o) => {
        calls++;
        return base.netperf(args, o);
      },
      // Call 2 (-s 4100, first try): the delay line waited for a CPU half the time, and released late.
      watchPath: async (pathPids) => {
        roots.push(pathPids);
        return {
          stop: async () =>
            calls === 2
              ? { waitPercent: { 'delay-line': 48.5, netperf: 3 }, lateReleasePercent: 22 }
              : { waitPercent: { 'delay-line': 1.5, netperf: 0.4 }, lateReleasePercent: 0.1 },
        };
      },
    };
    const driver = fakeDriver('a');
    const start = driver.start;
    driver.start = async (ctx) => ({ ...(await start(ctx)), pathPids: () => [4242] });
    const events: string[] = [];
    await runSweep(
      request([driver], {
        plan: plan2,
        onEvent: (e) => {
          if (e.kind === 'remeasure') events.push(e.reasons.join('; '));
        },
      }),
      io,
    );
    expect(roots.every((r) => r.length === 1 && r[0] === 4242)).toBe(true);
    expect(
      records.map((r) => [r.value, r.metrics?.throughputMbps, r.interference?.flagged, r.interference?.remeasurement]),
    ).toEqual([
      [100, 94, false, 0],
      [4100, 60, true, 0],
      [8100, 94, false, 0],
      [4100, 94, false, 1],
    ]);
    expect(records[1]!.interference).toMatchObject({
      waitPercent: { 'delay-line': 48.5, netperf: 3 },
      lateReleasePercent: 22,
      reasons: [
        'others busy 100% > 50%',
        'delay-line waited for a CPU 48.5% of the time > 10% with others busy 100% > 10%',
        'delay line released 22% of packets >= 100 us late > 5% with others busy 100% > 10%',
      ],
    });
    expect(events).toEqual([records[1]!.interference!.reasons.join('; ')]);
    // Read back through the schema, and summarised: the disturbed 60 Mbit/s is in no mean.
    const reread = records.map((r, i) => validateRecord(JSON.parse(JSON.stringify(r)), `results.jsonl line ${i + 1}`));
    const point = summarizePoints(reread).find((p) => p.value === 4100)!;
    expect([point.samples, point.throughput.mean]).toEqual([[94], 94]);
    // Had the re-measurement been disturbed too, the replicate would have no value at all.
    const bothFlagged = reread.map((r) =>
      r.value === 4100 ? { ...r, interference: { ...r.interference!, flagged: true } } : r,
    );
    const lost = summarizePoints(bothFlagged).find((p) => p.value === 4100)!;
    expect([lost.samples, lost.flagged, lost.failed]).toEqual([[], 1, 0]);
    expect(measuredValues(bothFlagged).get('a')!.get('TCP_STREAM:sendSocketSize=4100')!.size).toBe(0);
  });

  it("re-measures a replicate far outside its point's others once, while the environment is live, and says why", async () => {
    const three = { ...one, replicates: 3 };
    const records: MeasurementRecord[] = [];
    const events: string[] = [];
    // Call 5 is -s 4100's second replicate: 57.7 Mbit/s among replicates at 94.
    await runSweep(
      request([fakeDriver('a')], {
        plan: three,
        onEvent: (e) => {
          if (e.kind === 'remeasure') events.push(`${e.task.point.value}#${e.task.replicate}: ${e.reasons.join('; ')}`);
        },
      }),
      fakeIO(records, undefined, (_, call) => (call === 5 ? 57.7 : 94)),
    );
    expect(records.map((r) => [r.value, r.replicate, r.metrics!.throughputMbps])).toEqual([
      [100, 1, 94],
      [4100, 1, 94],
      [8100, 1, 94],
      [100, 2, 94],
      [4100, 2, 57.7],
      [8100, 2, 94],
      [100, 3, 94],
      [4100, 3, 94],
      [8100, 3, 94],
      [4100, 2, 94],
    ]);
    expect(events).toEqual([
      expect.stringMatching(
        /^4100#2: replicate 2: 57\.7 is [\d.]+ robust SDs below the median 94 of its point's 3 clean replicates/,
      ),
    ]);
    expect(records[9]!.remeasuredBecause).toEqual([events[0]!.replace(/^4100#2: /, '')]);
    const latest = summarizePoints(latestRecords(records)).find((p) => p.value === 4100)!;
    expect(latest.samples).toEqual([94, 94, 94]);
    // Both records stay in the file and read back through the schema.
    for (const r of records) validateRecord(JSON.parse(JSON.stringify(r)), 'results.jsonl');
  });

  it('keeps a failed re-measurement on record without letting it displace the flagged measurement', async () => {
    const again = { ...one, interference: { ...one.interference, remeasureFlagged: 3 } };
    const records: MeasurementRecord[] = [];
    await runSweep(
      request([fakeDriver('a')], { plan: again }),
      disturbedHost(
        fakeIO(records),
        (call) => call === 1,
        // Call 4: -s 100's first retake, after the turn's other two tasks.
        (call) => call === 4,
      ),
    );
    expect(records.map((r) => [r.value, r.status, r.interference?.remeasurement])).toEqual([
      [100, 'ok', 0],
      [4100, 'ok', 0],
      [8100, 'ok', 0],
      [100, 'failed', 1],
    ]);
    expect(latestRecords(records).find((r) => r.value === 100)).toMatchObject({
      status: 'ok',
      interference: { flagged: true, remeasurement: 0 },
    });
  });
});

describe('CPU cost on record', () => {
  /** A host on which each look finds the cgroup 0.25 s and the client 0.1 s further on, the machine 0.05 s of softirq. */
  function cpuHost(scopes: string[][]): NonNullable<SweepIO['cpu']> {
    let looks = 0;
    return {
      look: (scope) => {
        scopes.push([...scope.cgroups]);
        looks++;
        return {
          atNs: looks * 1e9,
          cgroupNs: new Map(scope.cgroups.map((c) => [c, looks * 250_000_000])),
          pidCpu: new Map(),
          clientTicks: looks * 10,
          irqTicks: 0,
          softirqTicks: looks * 5,
        };
      },
      softirqInTaskTime: () => true,
    };
  }
  const one = { ...plan, replicates: 1, order: { randomize: false, seed: 1 } };

  it("records the scope's seconds per gigabyte over netperf's window, asking the scope at each measurement", async () => {
    const records: MeasurementRecord[] = [];
    const scopes: string[][] = [];
    let asked = 0;
    const driver = fakeDriver('a');
    const start = driver.start;
    driver.start = async (ctx) => ({
      ...(await start(ctx)),
      cpuScope: () => ({ cgroups: [`docker/${++asked}`], pids: [] }),
    });
    await runSweep(request([driver], { plan: one }), { ...fakeIO(records), cpu: cpuHost(scopes) });
    expect(records).toHaveLength(3);
    // Two looks per measurement, each at the scope asked when it started.
    expect(scopes).toEqual([['docker/1'], ['docker/1'], ['docker/2'], ['docker/2'], ['docker/3'], ['docker/3']]);
    for (const r of records) {
      // 94.07 Mbit/s for 2.00 s: 23,517,500 bytes; 0.25 s of the cgroup between the two looks.
      expect(r.cpu).toEqual({
        scope: { cgroups: [expect.stringMatching(/^docker\/\d$/)], pids: [] },
        wallSeconds: 1,
        deliveredBytes: 23_517_500,
        serverSeconds: 0.25,
        serverSecondsPerGigabyte: 10.630382,
        unreadable: null,
        clientSeconds: 0.1,
        clientSecondsPerGigabyte: 4.252153,
        hostSoftirqSeconds: 0.05,
        hostIrqSeconds: 0,
        softirqInTaskTime: true,
      });
      expect(validateRecord(JSON.parse(JSON.stringify(r)), 'r').cpu).toEqual(r.cpu);
    }
  });

  it('records none for an environment without a scope, nor for a failed measurement', async () => {
    const records: MeasurementRecord[] = [];
    const scopes: string[][] = [];
    await runSweep(request([fakeDriver('a')], { plan: one }), { ...fakeIO(records), cpu: cpuHost(scopes) });
    expect(scopes).toEqual([]);
    expect(records.every((r) => r.status === 'ok' && r.cpu === undefined)).toBe(true);

    const failed: MeasurementRecord[] = [];
    const driver = fakeDriver('b');
    const start = driver.start;
    driver.start = async (ctx) => ({ ...(await start(ctx)), cpuScope: () => ({ cgroups: ['c'], pids: [] }) });
    const io = fakeIO(failed);
    await runSweep(request([driver], { plan: one }), {
      ...io,
      netperf: async (args, o) => ({ ...(await io.netperf(args, o)), exitCode: 1, stdout: '', stderr: 'refused' }),
      cpu: cpuHost(scopes),
    });
    expect(failed.map((r) => [r.status, r.cpu])).toEqual([
      ['failed', undefined],
      ['failed', undefined],
      ['failed', undefined],
    ]);
  });
});
