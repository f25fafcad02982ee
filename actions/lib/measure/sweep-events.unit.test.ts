import { describe, expect, it } from 'vitest';
import type { MeasurementRecord } from './records.ts';
import { describeEvent, formatDuration } from './sweep-events.ts';

const record = (over: Partial<MeasurementRecord>): MeasurementRecord =>
  ({
    formatVersion: 1,
    environment: 'kvm',
    pointId: 'TCP_STREAM:sendSocketSize=4100',
    test: 'TCP_STREAM',
    series: 'from-100',
    parameter: 'sendSocketSize',
    value: 4100,
    replicate: 2,
    attempts: 1,
    startedAt: '',
    finishedAt: '',
    command: [],
    stdout: '',
    stderr: '',
    status: 'ok',
    error: null,
    metrics: { throughputMbps: 93.456 } as MeasurementRecord['metrics'],
    ...over,
  }) as MeasurementRecord;

describe('sweep event lines (virtnet run and the run-sweep action)', () => {
  it('a measurement: progress, point, replicate, result and ETA', () => {
    expect(describeEvent({ kind: 'measured', index: 7, total: 174, record: record({}), etaSeconds: 3725 })).toEqual({
      level: 'info',
      text: '[  7/174] kvm TCP_STREAM -s 4100 rep 2: 93.46 Mbit/s  ETA 1h02m',
    });
    expect(
      describeEvent({
        kind: 'measured',
        index: 8,
        total: 8,
        record: record({
          parameter: 'messageSize',
          test: 'UDP_STREAM',
          value: 1450,
          status: 'failed',
          error: 'netperf did not finish in time and was killed',
          metrics: null,
        }),
        etaSeconds: 0,
      }).text,
    ).toBe('[8/8] kvm UDP_STREAM -m 1450 rep 2: FAILED: netperf did not finish in time and was killed  ETA 0s');
  });

  it('an environment that failed or was skipped is an error; TCG is said', () => {
    expect(describeEvent({ kind: 'environment-failed', environment: 'osv', error: 'no image' })).toEqual({
      level: 'error',
      text: '== osv: FAILED to start: no image',
    });
    expect(describeEvent({ kind: 'environment-skipped', environment: 'kvm', reason: 'needs root' }).level).toBe(
      'error',
    );
    const ready = describeEvent({
      kind: 'environment-ready',
      environment: 'kvm',
      description: { name: 'kvm', summary: 'guest', details: {}, accelerator: 'tcg', startupSeconds: 4.04 },
    });
    expect(ready).toEqual({
      level: 'info',
      text: '== kvm: ready in 4.0 s: guest [TCG: software emulation, not KVM numbers]',
    });
    expect(describeEvent({ kind: 'notice', message: 'took over' }).text).toBe('  note: took over');
  });

  it('durations', () => {
    expect([0, 59.4, 61, 3599, 3600, 36_061].map(formatDuration)).toEqual([
      '0s',
      '59s',
      '1m01s',
      '59m59s',
      '1h00m',
      '10h01m',
    ]);
  });
});
