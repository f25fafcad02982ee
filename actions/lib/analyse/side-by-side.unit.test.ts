// The side-by-side table and its notes, on real runs: the committed four-environment reproduction
// (guests under TCG, the delay line, no CPU cost recorded) and a quick native + docker run that
// recorded the CPU cost (the fixture of actions/lib/testing/fixtures/cpu-quick-run).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRun } from '../measure/run-dir.ts';
import { loadClaims } from './claims/file.ts';
import { analyseRun } from './run.ts';
import { metricCell, sharedPoints, whatItIs } from './side-by-side.ts';
import type { PointSummary } from './aggregate.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const claims = loadClaims('paper', join(REPO, 'env', 'plans'));
const analysed = (dir: string) => {
  const run = loadRun(dir);
  return analyseRun(run.manifest, run.results.records, claims);
};

describe('the side-by-side table', () => {
  it('on the committed reproduction: each environment with what it is, its TCG label, and the notes that apply', () => {
    const a = analysed(join(REPO, 'reports', 'runs', '20261204T171317-f726c9'));
    const t = a.tables.find((x) => x.id === 'side-by-side')!;
    expect(t.rows.map((r) => r.slice(0, 3))).toEqual([
      ['Native Linux', 'native', '0.02'],
      ['Docker', 'docker: network bridge', '0.24'],
      ['Linux on QEMU (TCG)', 'kvm: nic virtio, vhost auto', '2.39'],
      ['OSv on QEMU (TCG)', 'osv: nic virtio, vhost auto', '2.90'],
    ]);
    // Round trip, then the TCP plateau with its interval; no CPU cost in a run from before it was sampled.
    expect(t.rows[0]![3]).toBe('503');
    expect(t.rows[0]![5]).toBe('94.1 [94.0, 94.1]');
    expect(t.rows[0]!.slice(-2)).toEqual(['-', '-']);
    expect(t.notes![0]).toMatch(/^kvm, osv ran under QEMU's TCG software emulation/);
    expect(t.notes![1]).toMatch(/^native, docker, kvm, osv reach at least 97% of the link's 94\.15/);
    expect(t.notes![2]).toMatch(/delay line, 200 us each way/);
    expect(t.notes!.some((n) => n.startsWith('The CPU cost is'))).toBe(false);
  });

  it('on a run that recorded the CPU cost: the per-gigabyte columns, and the note on what they leave out', () => {
    const a = analysed(new URL('../testing/fixtures/cpu-quick-run', import.meta.url).pathname);
    const t = a.tables.find((x) => x.id === 'side-by-side')!;
    expect(t.rows.map((r) => r[0])).toEqual(['Native Linux', 'Docker']);
    for (const row of t.rows) for (const cell of row.slice(-2)) expect(cell).toMatch(/^\d+(\.\d+)? \[\d/);
    expect(t.notes!.some((n) => n.startsWith("The CPU cost is the environment's own processes"))).toBe(true);
    expect(t.notes!.some((n) => n.includes('TCG'))).toBe(false);
  });

  it('makes every row of the same points, and says which were left out and why', () => {
    const point = (environment: string, value: number, n: number, flagged = 0) =>
      ({
        environment,
        test: 'UDP_STREAM',
        series: 'from-50',
        value,
        pointId: `UDP_STREAM:requestSize=${value}`,
        throughput: { n },
        flagged,
        failed: 0,
      }) as unknown as PointSummary;
    const points = [point('native', 50, 3), point('kvm', 50, 0, 3), point('native', 350, 3), point('kvm', 350, 3)];
    const shared = sharedPoints(points, ['native', 'kvm']);
    expect(shared.points.map((p) => `${p.environment} ${p.value}`)).toEqual(['native 350', 'kvm 350']);
    expect(shared.leftOut).toEqual(['UDP_STREAM:requestSize=50: kvm (every replicate flagged as disturbed)']);
    // A point no environment has a value at changes no row, and is not worth a sentence.
    expect(sharedPoints([point('native', 50, 0), point('kvm', 50, 0)], ['native', 'kvm']).leftOut).toEqual([]);
    // Not measured at all in one environment.
    expect(sharedPoints([point('native', 50, 3)], ['native', 'kvm']).leftOut).toEqual([
      'UDP_STREAM:requestSize=50: kvm (not measured)',
    ]);
  });

  it('on the committed modern run: kvm has no clean value at UDP 50 B, so no row averages it', () => {
    const a = analysed(join(REPO, 'reports', 'runs', '20261207T193355-c20ec9'));
    const t = a.tables.find((x) => x.id === 'side-by-side')!;
    const note = t.notes!.find((n) => n.startsWith('Every row is made of the same points'));
    expect(note).toMatch(/UDP_STREAM:requestSize=50: kvm \(every replicate flagged as disturbed\)/);
    // kvm's UDP up to 1400 B is the mean over the same points as native's.
    const column = t.columns.indexOf('UDP up to 1400 B (10^6 bits/s)');
    const value = (row: string[]) => Number(row[column]!.split(' ')[0]);
    const native = a.points.filter((p) => p.environment === 'native' && p.test === 'UDP_STREAM' && p.value <= 1400);
    const sharedNative = native.filter((p) => p.value !== 50);
    expect(value(t.rows.find((r) => r[0] === 'Native Linux')!)).toBeCloseTo(
      sharedNative.reduce((s, p) => s + p.throughput.mean, 0) / sharedNative.length,
      1,
    );
  });

  it('formats a metric with or without its interval, and says what an environment is', () => {
    expect(metricCell({ value: 93.456, low: 93.1, high: 93.8, points: 4 })).toBe('93.5 [93.1, 93.8]');
    expect(metricCell({ value: 512.4, low: null, high: null, points: 0 })).toBe('512');
    expect(metricCell({ value: 3.21, low: 2.9, high: 3.5, points: 4 })).toBe('3.21 [2.90, 3.50]');
    expect(metricCell(undefined)).toBe('-');
    expect(whatItIs({ base: 'docker', options: { runtime: 'runsc', network: 'bridge' } })).toBe(
      'docker: network bridge, runtime runsc',
    );
    expect(whatItIs({ base: 'native', options: {} })).toBe('native');
    expect(whatItIs(undefined)).toBe('(not recorded)');
  });
});
