// Bench (j)'s scoring: which measurements overlapped a disturbance, and whether the run caught them
// (flagged, or re-measured because of them). Records are copies of a real one, moved in time.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { disturbedPoints, scoreDisturbances } from './bench-interference.ts';
import { parseResults, type MeasurementRecord } from '../actions/lib/measure/records.ts';

const real = parseResults(
  readFileSync(new URL('../reports/runs/20261204T171317-f726c9/results.jsonl', import.meta.url), 'utf8'),
).records.find((r) => r.status === 'ok' && r.interference)!;
const T0 = Date.parse('2026-12-07T13:00:00Z');
/** A copy of the real record measured from second `from` to `to`, flagged or not, maybe a re-measurement. */
function at(from: number, to: number, flagged = false, extra: Partial<MeasurementRecord> = {}): MeasurementRecord {
  return {
    ...real,
    startedAt: new Date(T0 + from * 1000).toISOString(),
    finishedAt: new Date(T0 + to * 1000).toISOString(),
    interference: { ...real.interference!, flagged },
    ...extra,
  };
}
const busy = { kind: 'busy loops on both cores', startMs: T0 + 10_000, endMs: T0 + 25_000 };

describe('scoreDisturbances', () => {
  it('counts a measurement overlapping a disturbance as caught when flagged or re-measured, and others flagged as false flags', () => {
    const records = [
      at(0, 2), // before: quiet, not flagged
      at(9, 11, true), // overlaps the start, flagged: caught
      at(12, 14, false, { replicate: 2 }), // overlaps, not flagged, but re-measured below: caught
      at(24, 26, false, { replicate: 3 }), // overlaps the end by 1 s, missed
      at(26, 28, false, { replicate: 2, remeasuredBecause: ['replicate 2: 60 is 9.1 robust SDs below the median 94'] }),
      at(30, 32, true, { replicate: 4 }), // quiet but flagged: a false flag
      at(33, 35, false, { replicate: 5 }),
    ];
    const score = scoreDisturbances(records, [busy]);
    expect(score).toMatchObject({ overlapping: 3, caught: 2, others: 4, falselyFlagged: 1 });
    expect(score.recall).toBeCloseTo(2 / 3);
    expect(score.falseFlagRate).toBe(0.25);
    expect(score.byKind).toEqual({ 'busy loops on both cores': { overlapping: 3, caught: 2 } });
    // The records behind the misses: the one missed, with what it overlapped and for how long, and the false flag.
    expect(score.missed).toEqual([{ record: records[3], kinds: ['busy loops on both cores'], overlapMs: 1000 }]);
    expect(score.falseFlags).toEqual([records[5]]);
    expect(disturbedPoints(records, [busy])).toEqual(new Set([`${real.environment}|${real.pointId}`]));
  });

  it('touching is not overlapping, failed records do not count, and nothing to score is null', () => {
    expect(scoreDisturbances([at(25, 27), at(8, 10)], [busy])).toMatchObject({ overlapping: 0, others: 2 });
    expect(scoreDisturbances([{ ...at(12, 14), status: 'failed', metrics: null, error: 'x' }], [busy])).toMatchObject({
      overlapping: 0,
      others: 0,
      recall: null,
      falseFlagRate: null,
    });
  });
});
