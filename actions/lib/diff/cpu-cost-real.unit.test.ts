// The CPU cost on real records: a quick native + docker run measured on this project's testbed
// (actions/lib/testing/fixtures/cpu-quick-run: 3 replicates of 1 s, no delay line, a quiet moment
// of a shared 2-core machine, 3 native replicates measured again as outliers), read, charted,
// tabled and diffed.

import { describe, expect, it } from 'vitest';
import { loadRun } from '../measure/run-dir.ts';
import { analyseRun } from '../analyse/run.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { headlineMetrics } from '../analyse/headline.ts';
import { pointsCsv, runCharts } from '../report/report.ts';
import { renderSvg } from '../report/render.ts';
import { diffRuns, hasRegression } from './diff.ts';
import { formatDiff } from './format.ts';
import { diffPage } from './page.ts';
import type { MeasurementRecord } from '../measure/records.ts';

const RUN = new URL('../testing/fixtures/cpu-quick-run', import.meta.url).pathname;
const OLD = new URL('../../../reports/runs/20261204T171317-f726c9', import.meta.url).pathname;
const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const run = loadRun(RUN);
const records = run.results.records;

describe('real records with their CPU cost', () => {
  it("carry a positive server CPU cost, scoped to native's netserver and docker's container cgroup", () => {
    const ok = records.filter((r) => r.status === 'ok');
    expect(ok).toHaveLength(51);
    const descriptions = run.manifest.environmentDescriptions;
    for (const r of ok) {
      const cpu = r.cpu!;
      expect(cpu.unreadable).toBeNull();
      expect(cpu.serverSeconds!).toBeGreaterThan(0);
      expect(cpu.serverSecondsPerGigabyte!).toBeCloseTo((cpu.serverSeconds! * 1e9) / cpu.deliveredBytes, 3);
      if (r.environment === 'native') expect(cpu.scope).toEqual({ cgroups: [], pids: [expect.any(Number)] });
      else expect(cpu.scope).toEqual({ cgroups: [expect.stringMatching(/^docker\/[0-9a-f]{64}$/)], pids: [] });
      expect(cpu.softirqInTaskTime).toBe(true);
    }
    // Each block started each environment anew: a netserver and a container per block, the
    // description naming one of them.
    const scopes = (environment: string) =>
      new Set(ok.filter((r) => r.environment === environment).map((r) => JSON.stringify(r.cpu!.scope)));
    expect(scopes('native').size).toBe(3);
    expect(scopes('docker').size).toBe(3);
    expect(scopes('native')).toContain(
      JSON.stringify({ cgroups: [], pids: [Number(descriptions.native!.details.pid)] }),
    );
    expect(scopes('docker')).toContain(JSON.stringify({ cgroups: [descriptions.docker!.details.cpuCgroup], pids: [] }));
  });

  it('are charted per sweep and tabled, from the clean replicates', async () => {
    const analysis = analyseRun(run.manifest, records, loadClaims('paper', PLANS), run.results.probes);
    const charts = runCharts(run.manifest, analysis);
    const udp = charts.find((c) => c.id === 'cpu-udp-from-50')!;
    const values = (udp.spec as { data: { values: { environment: string; x: number; y: number; n: number }[] } }).data
      .values;
    // Docker's 3 replicates at -r 50: 36.6, 37.3 and 36.2 CPU-s per gigabyte.
    const docker50 = values.find((v) => v.environment === 'Docker' && v.x === 50)!;
    expect(docker50.n).toBe(3);
    expect(docker50.y).toBeCloseTo((36.608704 + 37.328007 + 36.212192) / 3, 3);
    expect(await renderSvg(udp.spec)).toContain('Server CPU-seconds per 10^9 bytes delivered');
    const csv = pointsCsv(analysis.points);
    expect(csv).toMatch(
      /^docker,UDP_STREAM,from-50,requestSize,50,3,[\d.]+,[\d.]+,[\d.]+,[\d.]+,0,,.*,3,36\.7163\d*,/m,
    );
    const headline = headlineMetrics(analysis.points);
    expect(headline.find((h) => h.environment === 'docker')!.metrics['udp-cpu']!.value).toBeGreaterThan(1);
  });
});

describe('real records with their CPU cost, diffed', () => {
  it('against a run recorded before the CPU cost was sampled: throughput diffed as ever, no CPU section', () => {
    const old = loadRun(OLD);
    const d = diffRuns(
      { label: 'old', manifest: old.manifest, records: old.results.records },
      { label: 'cpu', manifest: run.manifest, records },
    );
    expect(d.summary.compared).toBeGreaterThan(0);
    expect(d.summary.cpu).toBeUndefined();
    expect(d.points.every((p) => p.cpu === undefined)).toBe(true);
    expect(formatDiff(d, 'text')).not.toContain('CPU cost per gigabyte');
  });

  it("against the same run with docker's server CPU raised by half: its CPU regresses, its throughput does not", () => {
    const dearer: MeasurementRecord[] = records.map((r) =>
      r.environment === 'docker' && r.cpu?.serverSecondsPerGigabyte != null
        ? { ...r, cpu: { ...r.cpu, serverSecondsPerGigabyte: r.cpu.serverSecondsPerGigabyte * 1.5 } }
        : r,
    );
    const d = diffRuns(
      { label: 'measured', manifest: run.manifest, records },
      { label: 'dearer', manifest: run.manifest, records: dearer },
    );
    expect(d.summary.regressed).toBe(0);
    expect(hasRegression(d)).toBe(false);
    const regressed = d.points.filter((p) => p.cpu?.classification === 'regressed');
    expect(regressed.length).toBeGreaterThan(0);
    expect(regressed.every((p) => p.environment === 'docker')).toBe(true);
    expect(d.points.filter((p) => p.environment === 'native').every((p) => p.cpu?.classification !== 'regressed')).toBe(
      true,
    );
    const text = formatDiff(d, 'text');
    expect(text).toContain(`CPU cost per gigabyte: ${d.summary.cpu!.compared} points with a server CPU cost`);
    expect(text).toMatch(
      /regressed +docker UDP_STREAM from-50 +-r 50 +36\.716 ± [\d.]+ \(3\) +55\.074 ± [\d.]+ \(3\) +\+50\.0%/,
    );
    expect(formatDiff(d, 'markdown')).toContain('### CPU cost per gigabyte');
    const page = String(diffPage(d).bodyHtml);
    expect(page).toContain('<h2>CPU cost per gigabyte</h2>');
    expect(page).toMatch(
      /<td class="verdict-regressed">regressed<\/td><td>Docker UDP_STREAM from-50<\/td><td>-r 50<\/td>/,
    );
  });
});
