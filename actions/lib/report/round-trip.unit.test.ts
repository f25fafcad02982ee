// The report's round-trip parts from probes: the RTT chart, the table, the CSV and the window/RTT
// model on the TCP absolute charts; none of them without probes.

import { describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import type { RttProbeRecord } from '../measure/records.ts';
import { reportTextFiles, runCharts } from './report.ts';
import { analyseRun } from '../analyse/run.ts';
import { renderSvg } from './render.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const { plan } = loadPlan('quick', PLANS);
const claims = loadClaims('paper', PLANS);
const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 2, seed: 4 });
const manifest = {
  ...run.manifest,
  link: {
    kind: 'veth-testbed' as const,
    shaping: 'tbf',
    rateMbit: 100,
    serverAddress: '198.18.9.1',
    clientAddress: '198.18.9.2',
    clientNamespace: 'ns',
    oneWayDelayMicroseconds: 150,
  },
};

function probe(environment: string, test: RttProbeRecord['test'], block: number, mean: number | null): RttProbeRecord {
  const base = {
    formatVersion: 1,
    kind: 'rtt-probe' as const,
    environment,
    test,
    session: 1,
    block,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:02.000Z',
    command: ['netperf', '-t', test],
    stdout: '',
    stderr: '',
  };
  if (mean === null) return { ...base, status: 'failed', error: 'no response received', metrics: null };
  return {
    ...base,
    status: 'ok',
    error: null,
    metrics: {
      protocol: test === 'TCP_RR' ? 'TCP' : 'UDP',
      transactionsPerSecond: 1e6 / mean,
      elapsedSeconds: 2,
      meanLatencyMicroseconds: mean,
      stddevLatencyMicroseconds: 10,
      p50LatencyMicroseconds: mean,
      p99LatencyMicroseconds: mean + 50,
      minLatencyMicroseconds: mean - 20,
      maxLatencyMicroseconds: mean + 400,
      requestSize: 1,
      responseSize: 1,
    },
  };
}

const probes = [
  probe('native', 'TCP_RR', 1, 380),
  probe('native', 'UDP_RR', 1, 390),
  probe('docker', 'TCP_RR', 1, 450),
  probe('docker', 'UDP_RR', 1, null),
  probe('native', 'TCP_RR', 2, 400),
  probe('native', 'UDP_RR', 2, 410),
  probe('docker', 'TCP_RR', 2, 470),
  probe('docker', 'UDP_RR', 2, 480),
];

describe('the report with round-trip probes', () => {
  const analysis = analyseRun(manifest, run.records, claims, probes);
  const charts = runCharts(manifest, analysis);

  it("holds each environment's median RTT, a table row each and a CSV line per probe", () => {
    expect(analysis.roundTrips).toEqual({
      native: { tcpMicroseconds: 390, udpMicroseconds: 400, tcpProbes: 2, udpProbes: 2 },
      docker: { tcpMicroseconds: 460, udpMicroseconds: 480, tcpProbes: 2, udpProbes: 1 },
    });
    const table = analysis.tables.find((t) => t.id === 'round-trip-time')!;
    expect(table.rows).toEqual([
      ['Native Linux', '390.0 us (2 probes)', '400.0 us (2 probes)'],
      ['Docker', '460.0 us (2 probes)', '480.0 us (1 probe)'],
    ]);
    const csv = reportTextFiles(manifest, analysis, charts)
      .find((f) => f.path === 'round-trips.csv')!
      .content.trim()
      .split('\n');
    expect(csv).toHaveLength(probes.length + 1);
    expect(csv[4]).toMatch(/^docker,UDP_RR,1,1,.*,failed,,,,,,no response received$/);
  });

  it('draws the RTT chart (ok probes only) and the model dashed on every TCP absolute chart', async () => {
    const rtt = charts.find((c) => c.id === 'round-trip-time')!;
    const layers = (rtt.spec as unknown as { layer: { data: { values: unknown[] } }[] }).layer;
    expect(layers.map((l) => l.data.values.length)).toEqual([4, 7]);
    expect(JSON.stringify(rtt.spec)).toContain('1 failed probe(s) not drawn');
    expect(await renderSvg(rtt.spec)).toMatch(/^<svg/);
    const absolute = charts.filter((c) => c.id.includes('tcp-absolute'));
    expect(absolute.length).toBeGreaterThan(0);
    for (const chart of absolute) {
      const layer = (
        chart.spec as unknown as {
          layer: {
            mark: { strokeDash?: number[] };
            data?: { values: { environment: string; x: number; y: number; window: number; rtt: number }[] };
          }[];
        }
      ).layer.at(-1)!;
      expect(layer.mark.strokeDash).toEqual([3, 3]);
      for (const row of layer.data!.values) expect(row.y).toBeCloseTo(Math.min(94.148, (row.window * 8) / row.rtt), 2);
      expect(new Set(layer.data!.values.map((r) => r.rtt))).toEqual(new Set([390, 460]));
      expect(await renderSvg(chart.spec)).toMatch(/^<svg/);
    }
  });

  it("falls back to the manifest's RTT when the probes are not passed, and draws nothing of it without either", () => {
    const withManifest = {
      ...manifest,
      environmentDescriptions: {
        ...manifest.environmentDescriptions,
        native: {
          name: 'native',
          summary: 'native',
          details: {},
          accelerator: 'none' as const,
          startupSeconds: 1,
          roundTrip: { tcpMicroseconds: 500, udpMicroseconds: 510, tcpProbes: 3, udpProbes: 3 },
        },
      },
    };
    const fromManifest = analyseRun(withManifest, run.records, claims);
    expect(fromManifest.roundTrips).toEqual({
      native: { tcpMicroseconds: 500, udpMicroseconds: 510, tcpProbes: 3, udpProbes: 3 },
    });
    expect(fromManifest.windowModel.every((r) => r.environment === 'native' && r.roundTripMicroseconds === 500)).toBe(
      true,
    );
    const none = analyseRun(manifest, run.records, claims);
    const plainCharts = runCharts(manifest, none);
    expect(plainCharts.some((c) => c.id === 'round-trip-time')).toBe(false);
    expect(JSON.stringify(plainCharts)).not.toContain('window / RTT');
    expect(none.tables.some((t) => t.id === 'round-trip-time')).toBe(false);
  });
});
