// The CPU cost of a point: the mean and interval of its clean replicates' server CPU-seconds per
// gigabyte, beside its throughput; nothing for runs recorded before it was sampled.

import { describe, expect, it } from 'vitest';
import { cpuPerGigabyteOf, summarizePoints } from './aggregate.ts';
import { pointRecords } from '../testing/diff-fixtures.ts';
import type { MeasurementRecord } from '../measure/records.ts';
import { summarize } from '../core/stats.ts';

const cost = (r: MeasurementRecord, server: number | null, client: number | null = 1): MeasurementRecord => ({
  ...r,
  cpu: {
    scope: { cgroups: [], pids: [7] },
    wallSeconds: 10,
    deliveredBytes: 1e9,
    serverSeconds: server,
    serverSecondsPerGigabyte: server,
    unreadable: server === null ? 'PID 7: the process ended during the measurement' : null,
    clientSeconds: 1,
    clientSecondsPerGigabyte: client,
    hostSoftirqSeconds: 0,
    hostIrqSeconds: 0,
    softirqInTaskTime: true,
  },
});

describe("a point's CPU cost per gigabyte", () => {
  it('is the mean and t interval of the replicates that recorded one, flagged ones left out like throughput', () => {
    const [r1, r2, r3, r4] = pointRecords('native', 'TCP_STREAM', 100, [94, 94, 94, 94]);
    const flagged: MeasurementRecord = {
      ...cost(r4!, 50),
      interference: {
        userPercent: 0,
        systemPercent: 0,
        iowaitPercent: 0,
        stealPercent: 0,
        othersBusyPercent: 90,
        loadAverage1: 3,
        cores: 2,
        remeasurement: 0,
        flagged: true,
        reasons: ['others busy 90% > 25%'],
      },
    };
    const [point] = summarizePoints([cost(r1!, 1.0, 2), cost(r2!, 1.2, 4), cost(r3!, null), flagged]);
    expect(point!.cpuPerGigabyte).toEqual({
      summary: summarize([1.0, 1.2]),
      samples: [1.0, 1.2],
      replicates: [1, 2],
      clientMean: 3,
    });
    expect(point!.throughput.n).toBe(3);
  });

  it('is absent for records without it (runs from before it was sampled) and when no replicate could be read', () => {
    const records = pointRecords('native', 'TCP_STREAM', 100, [94, 94]);
    expect(summarizePoints(records)[0]).not.toHaveProperty('cpuPerGigabyte');
    expect(cpuPerGigabyteOf(records.map((r) => cost(r, null)))).toBeUndefined();
  });
});
