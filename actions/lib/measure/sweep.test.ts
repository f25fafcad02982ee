// The sweep loop's fault handling with fakes (no processes): the deadline on a start() that never
// returns, a teardown that throws, an abort mid-measurement, and a resume's skip set. The same
// faults with real processes are in faults.test.ts and scripts/cli/faults.test.ts.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EnvironmentDriver, StartedEnvironment } from './environment.ts';
import { type Plan, scheduleTasks, taskKey, validatePlan } from '../plan/plan.ts';
import type { CommandResult } from '../core/proc.ts';
import type { MeasurementRecord } from './records.ts';
import { runSweep, type SweepIO, type SweepRequest } from './sweep.ts';

const tcpOutput = readFileSync(new URL('./fixtures/netperf/tcp-stream-s100.txt', import.meta.url), 'utf8');
const plan: Plan = validatePlan({
  formatVersion: 1, name: 'fake', testLengthSeconds: 1, replicates: 2, retries: 0, order: { randomize: true, seed: 3 },
  sweeps: [{ test: 'TCP_STREAM', series: 's', vary: 'sendSocketSize', from: 100, to: 8100, step: 4000, messageSize: 131072 }],
});

function fakeDriver(name: string, behaviour: { startMs?: number; stopThrows?: boolean; stops?: string[] } = {}): EnvironmentDriver {
  return {
    name, title: name, available: async () => ({ ok: true }), cleanup: async () => [],
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

function fakeIO(records: MeasurementRecord[], onNetperf?: () => void): SweepIO {
  return {
    netperf: async (args): Promise<CommandResult> => {
      onNetperf?.();
      return { argv: args, exitCode: 0, signal: null, stdout: tcpOutput, stderr: '', timedOut: false, aborted: false, durationMs: 1 };
    },
    append: (r) => records.push(r),
    now: () => new Date(),
  };
}

function request(environments: EnvironmentDriver[], extra: Partial<SweepRequest> = {}): SweepRequest {
  return {
    plan, environments, done: new Set(), signal: new AbortController().signal, onEvent: () => {},
    context: { serverAddress: '198.18.0.1', ports: plan.ports, logDir: '/nonexistent', probe: async () => true, readyTimeoutMs: 100, settings: {}, log: () => {} },
    ...extra,
  };
}

describe('runSweep under faults', () => {
  it('abandons a start() past its deadline, stops it when it comes up late, and measures the next environment', async () => {
    const stops: string[] = [];
    const records: MeasurementRecord[] = [];
    const outcome = await runSweep(request([fakeDriver('slow', { startMs: 600, stops }), fakeDriver('fast')], { startGraceMs: 100 }), fakeIO(records));
    expect(outcome.environmentErrors.slow).toBe('slow: did not become ready within 0.2 s; gave up waiting for it');
    expect(records.map((r) => r.environment)).toEqual(Array(6).fill('fast'));
    await new Promise((r) => setTimeout(r, 700));
    expect(stops).toEqual(['slow']);
  });

  it('records a teardown that throws and still measures the environments after it', async () => {
    const records: MeasurementRecord[] = [];
    const outcome = await runSweep(request([fakeDriver('a', { stopThrows: true }), fakeDriver('b')]), fakeIO(records));
    expect(outcome.environmentErrors.a).toBe('teardown failed: ip link del: device busy (virtnet cleanup removes what is left)');
    expect(records.filter((r) => r.environment === 'b')).toHaveLength(6);
  });

  it('does not record the measurement an abort cut short, and stops the environment', async () => {
    const controller = new AbortController();
    const records: MeasurementRecord[] = [];
    const stops: string[] = [];
    let calls = 0;
    const outcome = await runSweep(request([fakeDriver('a', { stops })], { signal: controller.signal }), fakeIO(records, () => {
      if (++calls === 3) controller.abort('SIGINT');
    }));
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
    const outcome = await runSweep(request([slowStart], { plan: { ...plan, warmupSeconds: 2 }, signal: controller.signal, onEvent: (e) => events.push(e.kind) }), fakeIO([], () => netperfCalls++));
    expect(netperfCalls).toBe(0);
    expect(events).not.toContain('warmup');
    expect(outcome).toMatchObject({ interrupted: true, measured: 0 });
    expect(stops).toEqual(['a']);
  });

  it('skips exactly the done set on resume, in the same seeded order', async () => {
    const all = scheduleTasks(plan, 'a');
    const done = new Set(all.filter((_, i) => i % 2 === 0).map((t) => taskKey({ environment: 'a', pointId: t.point.id, replicate: t.replicate })));
    const records: MeasurementRecord[] = [];
    await runSweep(request([fakeDriver('a')], { done }), fakeIO(records));
    expect(records.map((r) => taskKey(r))).toEqual(all.filter((_, i) => i % 2 === 1).map((t) => taskKey({ environment: 'a', pointId: t.point.id, replicate: t.replicate })));
  });
});
