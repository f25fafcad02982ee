// Measurements flagged as disturbed by the host: hollow points on the curve figures, and the
// count per environment with the reasons in the report's interference table.

import { describe, expect, it } from 'vitest';
import { summarizePoints } from '../../analyse/aggregate.ts';
import { INTERFERENCE_DEFAULTS } from '../../plan/plan.ts';
import type { MeasurementRecord, RecordedInterference } from '../../measure/records.ts';
import { pointRecords, testManifest } from '../../testing/diff-fixtures.ts';
import { interferenceTable } from '../../analyse/tables.ts';
import { figureContext, tcpAbsoluteFigure } from './figures.ts';
import { compileToVega } from '../render.ts';

const quiet: RecordedInterference = {
  userPercent: 20,
  systemPercent: 10,
  iowaitPercent: 0,
  stealPercent: 0,
  othersBusyPercent: 3,
  loadAverage1: 0.4,
  cores: 2,
  remeasurement: 0,
  flagged: false,
  reasons: [],
};
const busy: RecordedInterference = {
  ...quiet,
  othersBusyPercent: 91.5,
  loadAverage1: 3.4,
  flagged: true,
  reasons: ['others busy 91.5% > 50%', 'load 1.7 per core > 1.5'],
};
const withInterference = (
  records: MeasurementRecord[],
  pick: (r: MeasurementRecord) => RecordedInterference,
): MeasurementRecord[] => records.map((r) => ({ ...r, interference: pick(r) }));

const records = [
  ...withInterference(pointRecords('native', 'TCP_STREAM', 100, [90, 91, 92]), (r) =>
    r.replicate === 2 ? busy : quiet,
  ),
  ...withInterference(pointRecords('native', 'TCP_STREAM', 4100, [94, 94, 94]), () => quiet),
  ...withInterference(pointRecords('docker', 'TCP_STREAM', 100, [80, 81, 82]), () => quiet),
];

describe('flagged measurements', () => {
  it('are counted per point and drawn hollow: the point layer fills only unflagged points', () => {
    const points = summarizePoints(records);
    expect(points.map((p) => [p.environment, p.value, p.flagged])).toEqual([
      ['docker', 100, 0],
      ['native', 100, 1],
      ['native', 4100, 0],
    ]);
    const spec = tcpAbsoluteFigure(
      points,
      null,
      '4a',
      figureContext(testManifest(), ['native', 'docker']),
    ) as unknown as {
      data: { values: { x: number; environment: string; flagged: boolean }[] };
      layer: { mark: { type: string }; params?: unknown; encoding: Record<string, unknown> }[];
    };
    expect(spec.data.values.filter((v) => v.flagged).map((v) => v.x)).toEqual([100]);
    const pointLayer = spec.layer.find((l) => l.mark.type === 'point' && 'params' in l)!;
    expect(pointLayer.encoding.fillOpacity).toEqual({ condition: { test: 'datum.flagged', value: 0 }, value: 1 });
    expect(pointLayer.encoding.stroke).toMatchObject({ field: 'environment' });
    // And Vega-Lite takes it: the fill opacity reaches the compiled point marks.
    expect(JSON.stringify(compileToVega(spec as never))).toContain('datum.flagged');
  });

  it('leave a chart without any as it was', () => {
    const clean = records.map(({ interference: _, ...r }) => r);
    const spec = tcpAbsoluteFigure(
      summarizePoints(clean),
      null,
      '4a',
      figureContext(testManifest(), ['native', 'docker']),
    ) as unknown as { layer: { mark: { type: string }; params?: unknown; encoding: Record<string, unknown> }[] };
    expect(spec.layer.find((l) => l.mark.type === 'point' && 'params' in l)!.encoding.fillOpacity).toBeUndefined();
  });

  it('are listed per environment with the thresholds crossed; a run recorded before sampling has no table', () => {
    const table = interferenceTable(records, { ...INTERFERENCE_DEFAULTS })!;
    expect(table.title).toContain('others busy > 50%');
    expect(table.rows).toEqual([
      ['native', '1 of 6', 'others busy > 50% (1); load per core > 1.5 (1)', '0', '91.5%', '0%'],
      ['docker', '0 of 3', '', '0', '3%', '0%'],
    ]);
    expect(interferenceTable(pointRecords('native', 'TCP_STREAM', 100, [90]), { ...INTERFERENCE_DEFAULTS })).toBeNull();
  });
});
