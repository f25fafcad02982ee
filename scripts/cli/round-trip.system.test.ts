// Round-trip probes end to end: the real CLI, real netperf and netserver, a real namespace testbed
// with its delay line. Each environment start gets one TCP_RR and one UDP_RR record, apart from the
// sweep: the sweep's records, its count and --resume are as they would be without them.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { latestRecords } from '../../actions/lib/measure/records.ts';
import { loadRun, RESULTS_FILE } from '../../actions/lib/measure/run-dir.ts';
import { plannedKeys } from '../../actions/lib/measure/session.ts';
import { taskKey } from '../../actions/lib/plan/schedule.ts';
import { measuredValues } from '../../actions/lib/plan/schedule.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedStatus } from '../../env/testbed/testbed.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const index = testIndex(12);
const work = mkdtempSync(join(tmpdir(), 'virtnet-rtt-'));
afterAll(async () => {
  await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

const ONE_WAY_US = 200;
const plan = {
  formatVersion: 2,
  name: 'rtt-tiny',
  description: 'Two TCP points, two replicates, 1 s tests: enough to start an environment and resume it.',
  testLengthSeconds: 1,
  replicates: 2,
  warmupSeconds: 0,
  confidence: null,
  order: { randomize: true, seed: 1 },
  design: 'blocked',
  ports: { control: 12865, data: 12866 },
  ipVersion: 4,
  retries: 1,
  sweeps: [
    {
      test: 'TCP_STREAM',
      series: 'tiny',
      vary: 'sendSocketSize',
      from: 100,
      to: 4100,
      step: 4000,
      messageSize: 131072,
    },
  ],
};

function virtnet(...args: string[]) {
  return runCommand([process.execPath, CLI, ...args], { timeoutMs: 180_000 });
}

const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

describe.skipIf(missing !== null)(`round-trip probes on a real delayed testbed${skipNote(missing)}`, () => {
  const out = join(work, 'run');
  const planFile = join(work, 'rtt-tiny.json');

  it(`records one TCP_RR and one UDP_RR per start, at least 2 x ${ONE_WAY_US} us, outside the sweep; the report draws them`, async () => {
    writeFileSync(planFile, JSON.stringify(plan));
    const r = await virtnet(
      'run',
      '--plan',
      planFile,
      '--env',
      'native',
      '--out',
      out,
      '--index',
      String(index),
      '--delay',
      `${ONE_WAY_US}us`,
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/4 measurements planned/);
    expect(r.stdout).toMatch(/round trip TCP_RR: mean [\d.]+ us/);
    const run = loadRun(out);
    expect(run.manifest.status).toBe('complete');
    expect(run.manifest.link?.oneWayDelayMicroseconds).toBe(ONE_WAY_US);
    // The sweep's records are exactly the plan's: the probes are not among them.
    expect(run.results.records).toHaveLength(4);
    expect(run.results.records.every((x) => x.test === 'TCP_STREAM' && x.status === 'ok')).toBe(true);
    // One environment, one start (it stays live across its blocks): one probe of each kind.
    const probes = run.results.probes;
    expect(
      probes.map((p) => `${p.environment} ${p.test} ${p.status} session ${p.session} block ${p.block}`),
      JSON.stringify(probes.map((p) => p.error)),
    ).toEqual(['native TCP_RR ok session 1 block 1', 'native UDP_RR ok session 1 block 1']);
    for (const p of probes) {
      const m = p.metrics!;
      // The delay line never releases early: every round trip takes at least 2d. The upper bound
      // only catches a hold of the wrong order (a unit slip); a loaded 2-core machine adds ms.
      expect(m.meanLatencyMicroseconds, p.stdout).toBeGreaterThanOrEqual(2 * ONE_WAY_US);
      expect(m.meanLatencyMicroseconds, p.stdout).toBeLessThan(5 * 2 * ONE_WAY_US + 5000);
      expect(m.p50LatencyMicroseconds).toBeGreaterThanOrEqual(2 * ONE_WAY_US);
      // Transactions/s and latency describe the same probe: one transaction at a time.
      expect((m.transactionsPerSecond * m.meanLatencyMicroseconds) / 1e6).toBeGreaterThan(0.8);
      expect((m.transactionsPerSecond * m.meanLatencyMicroseconds) / 1e6).toBeLessThan(1.2);
      expect(p.command).toEqual(
        expect.arrayContaining(['netperf', '-t', p.test, '-l', '2', '-P', `,${plan.ports.data}`]),
      );
      expect(p.stdout).toContain('MEAN_LATENCY=');
      expect(p.startedAt <= p.finishedAt).toBe(true);
    }
    const rt = run.manifest.environmentDescriptions.native?.roundTrip;
    expect(rt).toEqual({
      tcpMicroseconds: probes[0]!.metrics!.meanLatencyMicroseconds,
      udpMicroseconds: probes[1]!.metrics!.meanLatencyMicroseconds,
      tcpProbes: 1,
      udpProbes: 1,
    });
    // The report: the RTT chart, the table, the CSV, and the window/RTT model on the TCP chart.
    expect(readFileSync(join(out, 'report/charts/round-trip-time.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*Round-trip time per environment/,
    );
    expect(readFileSync(join(out, 'report/tables.md'), 'utf8')).toMatch(
      /\| Native Linux \| [\d.]+ us \(1 probe\) \| [\d.]+ us \(1 probe\) \|/,
    );
    expect(readFileSync(join(out, 'report/round-trips.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    const fig = readFileSync(join(out, 'report/charts/fig4a-tcp-absolute-tiny.vl.json'), 'utf8');
    expect(fig).toContain('model min(94.148, window / RTT)');
    expect(readFileSync(join(out, 'report/charts/fig4a-tcp-absolute-tiny.svg'), 'utf8')).toMatch(/^<svg/);
    expect((await testbedStatus(index)).up).toBe(false);
  });

  it('a resumed start makes its own probes; the resume still ends with exactly the planned records', async () => {
    // The state a run killed before its last measurement leaves: drop that line.
    const path = join(out, RESULTS_FILE);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const lastMeasurement = lines.findLastIndex((l) => !l.includes('"kind":"rtt-probe"'));
    writeFileSync(path, `${lines.filter((_, i) => i !== lastMeasurement).join('\n')}\n`);
    expect(loadRun(out).results.records).toHaveLength(3);

    const r = await virtnet('run', '--resume', out, '--index', String(index));
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const run = loadRun(out);
    expect(run.manifest.status).toBe('complete');
    expect(run.manifest.sessions).toHaveLength(2);
    expect(run.manifest.sessions[1]!.measuredInSession).toBe(1);
    const planned = plannedKeys(
      run.manifest.plan,
      run.manifest.environments,
      measuredValues(latestRecords(run.results.records)),
    );
    expect(planned).toHaveLength(4);
    expect(run.results.records.map(taskKey).sort()).toEqual([...planned].sort());
    expect(run.results.probes.map((p) => `${p.test} session ${p.session}`)).toEqual([
      'TCP_RR session 1',
      'UDP_RR session 1',
      'TCP_RR session 2',
      'UDP_RR session 2',
    ]);
    expect(
      run.results.probes.every((p) => p.status === 'ok' && p.metrics!.meanLatencyMicroseconds >= 2 * ONE_WAY_US),
    ).toBe(true);
    expect(run.manifest.environmentDescriptions.native?.roundTrip).toMatchObject({ tcpProbes: 2, udpProbes: 2 });
    expect(readFileSync(join(out, 'report/tables.md'), 'utf8')).toMatch(
      /\| Native Linux \| [\d.]+ us \(2 probes\) \| [\d.]+ us \(2 probes\) \|/,
    );
  });
});
