// The CPU cost in the report: a chart per sweep beside its throughput (server CPU-seconds per
// gigabyte, each point's mean and interval, every replicate a dot), its columns in points.csv, and
// nothing of it for a run recorded before it was sampled.

import { describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { analyseRun } from '../analyse/run.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import { pointsCsv, runCharts } from './report.ts';
import { renderSvg } from './render.ts';
import { chartNotes } from './charts/lines.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const { plan } = loadPlan('quick', PLANS);
const CLAIMS = loadClaims('paper', PLANS);
const rows = (spec: object) => (spec as { data: { values: Record<string, unknown>[] } }).data.values;

describe('the CPU cost charts', () => {
  // Docker costs twice native's CPU per gigabyte; UDP's small datagrams cost more than TCP.
  const run = syntheticRun({
    plan,
    environments: ['native', 'docker'],
    replicates: 3,
    seed: 4,
    noise: 0.02,
    cpuPerGigabyte: (e, p) => (e === 'docker' ? 2 : 1) * (p.test === 'UDP_STREAM' ? 5000 / p.value : 1.5),
  });
  const analysis = analyseRun(run.manifest, run.records, CLAIMS);
  const charts = runCharts(run.manifest, analysis);
  const ids = charts.map((c) => c.id);

  it("stand one per sweep, each after its sweep's throughput charts", () => {
    expect(ids).toContain('cpu-tcp-from-100');
    expect(ids).toContain('cpu-udp-from-50');
    expect(ids.indexOf('cpu-tcp-from-100')).toBeGreaterThan(ids.indexOf('fig4a-tcp-absolute-from-100'));
    expect(ids.indexOf('cpu-tcp-from-100')).toBeLessThan(ids.indexOf('fig6a-udp-absolute'));
    expect(ids.indexOf('cpu-udp-from-50')).toBeGreaterThan(ids.indexOf('fig6a-udp-absolute'));
  });

  it("draw each point's mean and interval over its replicates, says what is and is not counted, and render", async () => {
    const chart = charts.find((c) => c.id === 'cpu-udp-from-50')!;
    const docker = rows(chart.spec).filter((r) => r.environment === 'Docker');
    const native = rows(chart.spec).filter((r) => r.environment === 'Native Linux');
    expect(docker).toHaveLength(4);
    const at50 = docker.find((r) => r.x === 50)!;
    expect(at50.y as number).toBeCloseTo(200, -1);
    expect((at50.samples as number[]).length).toBe(3);
    expect(at50.low as number).toBeLessThan(at50.y as number);
    expect(native.find((r) => r.x === 50)!.y as number).toBeCloseTo(100, -1);
    expect(chartNotes(chart.spec).join(' ')).toContain("not counted: the client's netperf, the testbed's delay line");
    const svg = await renderSvg(chart.spec);
    expect(svg).toContain('Server CPU-seconds per 10^9 bytes delivered');
    expect(svg).toContain('CPU cost: UDP_STREAM (from-50)');
  });

  it('fill the CPU columns of points.csv', () => {
    const csv = pointsCsv(analysis.points).split('\n');
    expect(csv[0]).toMatch(/,cpu_n,cpu_server_s_per_gb,cpu_ci95_low,cpu_ci95_high,cpu_client_s_per_gb$/);
    const dockerTcp = csv.find((l) => l.startsWith('docker,TCP_STREAM,from-100,sendSocketSize,100,'))!;
    const [n, mean, , , client] = dockerTcp.split(',').slice(-5);
    expect(Number(n)).toBe(3);
    expect(Number(mean)).toBeCloseTo(3, 1);
    expect(Number(client)).toBe(2);
  });

  it('are absent for a run recorded before the CPU cost was sampled, whose CSV columns stay empty', () => {
    const old = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 2, seed: 4 });
    const a = analyseRun(old.manifest, old.records, CLAIMS);
    expect(runCharts(old.manifest, a).filter((c) => c.id.startsWith('cpu-'))).toEqual([]);
    expect(pointsCsv(a.points).split('\n')[1]).toMatch(/,,,,,$/);
  });
});
