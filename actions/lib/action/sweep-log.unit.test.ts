// The sweep's progress as an action logs it (sweep-log.ts), fed with the events of the real sweep
// loop over fake environments and a fake netperf (no processes), and recorded as the runner would
// fold it: one group per environment's turn, netperf commands at debug level, a summary line after
// each group and no measurement line outside one.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EnvironmentDriver } from '../measure/environment.ts';
import type { CommandResult } from '../core/proc.ts';
import { expandPoints, type Plan, validatePlan } from '../plan/plan.ts';
import type { MeasurementRecord } from '../measure/records.ts';
import type { SessionEvent } from '../measure/sweep-events.ts';
import { runSweep, type SweepIO, type SweepRequest } from '../measure/sweep.ts';
import { foldedLog, recordingIO } from '../testing/action-io.ts';
import { sweepLog, turnSummary } from './sweep-log.ts';

const fixture = (name: string) => readFileSync(new URL(`../measure/fixtures/netperf/${name}`, import.meta.url), 'utf8');
const OUTPUT: Record<string, string> = {
  TCP_STREAM: fixture('tcp-stream-s100.txt'),
  TCP_RR: fixture('tcp-rr.txt'),
  UDP_RR: fixture('udp-rr.txt'),
};
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

function driver(name: string, startError: string | null = null): EnvironmentDriver {
  return {
    name,
    title: name,
    available: async () => ({ ok: true }),
    cleanup: async () => [],
    start: async () => {
      if (startError !== null) throw new Error(startError);
      const description = {
        name,
        summary: `${name} (fake)`,
        details: {},
        accelerator: 'none' as const,
        startupSeconds: 0,
      };
      return {
        endpoint: { address: '198.18.0.1', controlPort: 12865, dataPort: 12866 },
        description,
        stop: async () => {},
      };
    },
  };
}

/** The events of a real sweep over `environments`, every netperf answering with a fixture of its test. */
async function sweepEvents(environments: EnvironmentDriver[]): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  const io: SweepIO = {
    netperf: async (args): Promise<CommandResult> => {
      const stdout = OUTPUT[args[args.indexOf('-t') + 1]!]!;
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
    append: () => {},
    appendProbe: () => {},
    now: () => new Date(),
  };
  const request: SweepRequest = {
    plan,
    environments,
    done: new Set(),
    measured: new Map(),
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
    context: {
      serverAddress: '198.18.0.1',
      ports: plan.ports,
      logDir: '/nonexistent',
      probe: async () => true,
      readyTimeoutMs: 100,
      settings: {},
      log: () => {},
    },
  };
  await runSweep(request, io);
  return events;
}

/** A clock that moves 5 s each time it is read. */
function steppingClock(): () => number {
  let t = 0;
  return () => (t += 5000);
}

describe('sweepLog', () => {
  it('folds each environment turn of a real sweep into a group and writes one summary line after it', async () => {
    const events = await sweepEvents([driver('native'), driver('docker')]);
    const io = recordingIO({});
    const log = sweepLog(io, steppingClock());
    for (const e of events) log.onEvent(e);
    log.close();
    const folded = foldedLog(io.log);
    // Blocked design, two replicates: each environment starts in each of the two blocks.
    const titles = folded.flatMap((e) => ('group' in e ? [e.group] : []));
    expect(titles).toEqual([
      '== native block 1: starting (3 measurements)',
      '== docker block 1: starting (3 measurements)',
      '== docker block 2: starting (3 measurements)',
      '== native block 2: starting (3 measurements)',
    ]);
    const top = folded.flatMap((e) => ('group' in e ? [`[${e.group}]`] : [e.message]));
    expect(top).toEqual([
      `[${titles[0]}]`,
      'native block 1: 3 of 3 measurements ok, 2 of 2 round-trip probes ok in 5s',
      `[${titles[1]}]`,
      'docker block 1: 3 of 3 measurements ok, 2 of 2 round-trip probes ok in 5s',
      `[${titles[2]}]`,
      'docker block 2: 3 of 3 measurements ok, 2 of 2 round-trip probes ok in 5s',
      `[${titles[3]}]`,
      'native block 2: 3 of 3 measurements ok, 2 of 2 round-trip probes ok in 5s',
    ]);
    for (const group of folded.flatMap((e) => ('group' in e ? [e] : []))) {
      const measured = group.lines.filter(
        (l) => l.level === 'info' && /^\[ *\d+\/12\] \w+ TCP_STREAM -s \d+ rep \d: 94\.07 Mbit\/s/.test(l.message),
      );
      expect(measured, group.group).toHaveLength(3);
      const commands = group.lines.filter((l) => l.level === 'debug' && /^\s+netperf .*-t TCP_STREAM/.test(l.message));
      expect(commands, group.group).toHaveLength(3);
    }
    // The warm-up is a detail: debug, inside its group.
    expect(io.log.filter((l) => /warm-up/.test(l.message)).every((l) => l.level === 'debug')).toBe(true);
    expect(io.log.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('says an environment that failed to start is not measured, as an error in its group and in its summary line', async () => {
    const events = await sweepEvents([driver('native'), driver('osv', 'no KVM here')]);
    const io = recordingIO({});
    const log = sweepLog(io, steppingClock());
    for (const e of events) log.onEvent(e);
    log.close();
    const folded = foldedLog(io.log);
    const osv = folded.flatMap((e) => ('group' in e && e.group.startsWith('== osv block 1') ? [e] : []));
    expect(osv).toHaveLength(1);
    expect(osv[0]!.lines).toContainEqual({ level: 'error', message: '== osv: FAILED to start: no KVM here' });
    const top = folded.flatMap((e) => ('group' in e ? [] : [e.message]));
    expect(top).toContain('osv block 1: not measured (failed to start: no KVM here)');
    // In block 2 the sweep sits osv out without a word: its summary line says why, and no group opens.
    expect(top).toContain('osv block 2: not measured (failed to start: no KVM here)');
    expect(folded.filter((e) => 'group' in e && e.group.startsWith('== osv block 2'))).toEqual([]);
    const native = top.filter((l) => l.startsWith('native'));
    expect(native).toEqual([
      'native block 1: 3 of 3 measurements ok, 2 of 2 round-trip probes ok in 5s',
      'native block 2: 3 of 3 measurements ok, 2 of 2 round-trip probes ok in 5s',
    ]);
  });

  it('counts a re-measured task once, by the record that counts, and keeps the re-measurement notice at debug level', async () => {
    const [start, ...rest] = await sweepEvents([driver('native')]);
    const measured = rest
      .filter((e): e is Extract<SessionEvent, { kind: 'measured' }> => e.kind === 'measured')
      .slice(0, 3);
    const disturbed = {
      userPercent: 1,
      systemPercent: 1,
      iowaitPercent: 0,
      stealPercent: 12,
      othersBusyPercent: 1,
      loadAverage1: 0.1,
      cores: 2,
      remeasurement: 0,
      flagged: true,
      reasons: ['steal 12% > 5%'],
    };
    const flagged: MeasurementRecord = { ...measured[0]!.record, interference: disturbed };
    const failedAgain: MeasurementRecord = {
      ...measured[0]!.record,
      status: 'failed',
      metrics: null,
      error: 'netperf timed out',
      interference: { ...disturbed, remeasurement: 1, flagged: false, reasons: [] },
    };
    const io = recordingIO({});
    const log = sweepLog(io, steppingClock());
    expect(start).toMatchObject({ kind: 'environment-start', environment: 'native', block: 1, tasks: 3 });
    log.onEvent(start!);
    log.onEvent({ ...measured[0]!, record: flagged });
    const task = {
      environment: 'native',
      point: expandPoints(plan).find((p) => p.id === flagged.pointId)!,
      replicate: flagged.replicate,
    };
    log.onEvent({ kind: 'remeasure', task, remeasurement: 1, reasons: ['steal 12% > 5%'] });
    log.onEvent({ ...measured[0]!, record: failedAgain });
    log.onEvent(measured[1]!);
    // The sweep throws here: close() ends the group and still writes the summary.
    log.close();
    const folded = foldedLog(io.log);
    expect(folded.flatMap((e) => ('group' in e ? [] : [e.message]))).toEqual([
      'native block 1: 2 of 3 measurements ok, 1 flagged as disturbed, 1 re-measured in 5s',
    ]);
    const group = folded.flatMap((e) => ('group' in e ? [e] : []))[0]!;
    expect(group.lines.filter((l) => /re-measuring/.test(l.message)).map((l) => l.level)).toEqual(['debug']);
  });

  it('writes a turn with nothing left to measure as one line, without a group', () => {
    const io = recordingIO({});
    const log = sweepLog(io, steppingClock());
    log.onEvent({ kind: 'notice', message: 'resuming: 6 measurements already in results.jsonl' });
    log.onEvent({ kind: 'environment-start', environment: 'native', block: 1, tasks: 0, skipped: 3 });
    log.close();
    expect(io.log).toEqual([
      { level: 'info', message: '  note: resuming: 6 measurements already in results.jsonl' },
      { level: 'info', message: '== native block 1: all 3 measurements already done' },
    ]);
  });

  it('summarises a turn in one line', () => {
    const counts = {
      environment: 'kvm',
      block: null,
      tasks: 40,
      ok: 37,
      failed: 3,
      flagged: 2,
      remeasured: 4,
      probes: 2,
      probesFailed: 1,
      notMeasured: null,
    };
    expect(turnSummary(counts, 247)).toBe(
      'kvm: 37 of 40 measurements ok, 3 failed, 2 flagged as disturbed, 4 re-measured, 1 of 2 round-trip probes ok in 4m07s',
    );
    expect(turnSummary({ ...counts, notMeasured: 'skipped: no /dev/kvm' }, 1)).toBe(
      'kvm: not measured (skipped: no /dev/kvm)',
    );
  });
});
