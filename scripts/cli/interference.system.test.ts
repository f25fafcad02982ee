// Interference on record, proved on a real disturbance: `virtnet run` measures native over a real
// namespace testbed with real netperf while this test keeps every CPU busy for part of the run
// (busy loops it starts and kills by PID). The measurements taken inside that window must be
// flagged, those before and after it must not, and the report must count them.
//
// The run is a child process, so the busy loops (children of this test) are not among the run's
// own processes. The sampled signal is the busy time of other processes over each measurement
// (/proc/stat minus the run's own process tree): the 1-minute load average lags the window by a
// minute, so the plan here turns its threshold off. The machine must otherwise be fairly quiet:
// the plan flags above 75% busy by others, so background work of up to one busy core still
// leaves the measurements outside the window unflagged.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, runCommand, sleep } from '../../actions/lib/core/proc.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { parseProcStat } from '../../actions/lib/measure/interference.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedStatus } from '../../env/testbed/testbed.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const index = testIndex(4);
const work = mkdtempSync(join(tmpdir(), 'virtnet-interference-'));
const loads: Daemon[] = [];
afterAll(async () => {
  for (const d of loads) await d.stop(1000);
  await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

function resultLines(out: string): number {
  const file = join(out, 'results.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** Waits, bounded in time, until the run has recorded `n` measurements (or ended). */
async function untilRecorded(out: string, n: number, ended: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (resultLines(out) < n && !ended() && Date.now() < deadline) await sleep(100);
}

describe.skipIf(missing !== null)(
  `interference on record (native, real testbed, real load)${skipNote(missing)}`,
  () => {
    it('flags exactly the measurements taken while the CPUs were loaded, and the report counts them', async () => {
      const plan = {
        formatVersion: 2,
        name: 'interference',
        testLengthSeconds: 1,
        replicates: 5,
        retries: 0,
        order: { randomize: false, seed: 1 },
        interference: { maxStealPercent: 5, maxOthersBusyPercent: 75, maxLoadPerCore: 1000, remeasureFlagged: 0 },
        sweeps: [{ test: 'TCP_STREAM', series: 'big', vary: 'sendSocketSize', from: 16384, to: 65536, step: 24576 }],
      };
      // What the rest of the machine does before the run (nothing of this test runs yet), for the messages.
      const stat = () => parseProcStat(readFileSync('/proc/stat', 'utf8')).cpu;
      const s0 = stat();
      await sleep(2000);
      const s1 = stat();
      const total = Object.keys(s0).reduce((n, k) => n + s1[k as keyof typeof s0] - s0[k as keyof typeof s0], 0);
      const background = Math.round((100 * (total - (s1.idle - s0.idle) - (s1.iowait - s0.iowait))) / total);
      const planFile = join(work, 'plan.json');
      writeFileSync(planFile, JSON.stringify(plan));
      const out = join(work, 'run');
      let ended = false;
      const running = runCommand(
        [process.execPath, CLI, 'run', '--plan', planFile, '--env', 'native', '--out', out, '--index', String(index)],
        { timeoutMs: 300_000 },
      ).finally(() => (ended = true));

      // Quiet for the first 4 measurements, loaded (four busy loops per CPU, so that they win most of the CPU time even against other work) for the next 5, quiet again for the last 6.
      await untilRecorded(out, 4, () => ended, 120_000);
      const loadStart = Date.now();
      for (let i = 0; i < 4 * availableParallelism(); i++)
        loads.push(new Daemon(['sh', '-c', 'while :; do :; done'], { label: 'test:busy-loop' }));
      const loadPids = loads.map((d) => d.pid!);
      await untilRecorded(out, 9, () => ended, 60_000);
      for (const d of loads.splice(0)) await d.stop(1000);
      const loadEnd = Date.now();

      const r = await running;
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      const all = loadRun(out).results.records;
      const time = (iso: string) => new Date(iso).getTime();
      const shown = (rs: typeof all) =>
        rs
          .map(
            (x) =>
              `${x.startedAt}..${x.finishedAt.slice(11)} others busy ${x.interference?.othersBusyPercent}%, user ${x.interference?.userPercent}%, system ${x.interference?.systemPercent}%${x.interference?.flagged ? ' FLAGGED' : ''}`,
          )
          .join('\n');
      console.log(`load ${new Date(loadStart).toISOString()}..${new Date(loadEnd).toISOString()}\n${shown(all)}`);
      // One record per planned measurement, and beside them only replicate-consistency retakes: a
      // measurement that overlaps the load by an edge may stay under the 75% flag yet read far
      // below its point's others, and is then measured again (never a flagged one: remeasureFlagged 0).
      const records = all.filter((x) => !x.remeasuredBecause);
      expect(records, shown(all)).toHaveLength(15);
      for (const x of all.filter((y) => y.remeasuredBecause))
        expect(x.remeasuredBecause!.join('; '), shown([x])).toMatch(/^replicate \d+: /);
      const inside = records.filter((x) => time(x.startedAt) >= loadStart && time(x.finishedAt) <= loadEnd);
      const outside = records.filter((x) => time(x.finishedAt) <= loadStart || time(x.startedAt) >= loadEnd);
      // The windows hold what the plan says: at least 3 measurements inside, at least 8 outside.
      expect(inside.length, shown(records)).toBeGreaterThanOrEqual(3);
      expect(outside.length, shown(records)).toBeGreaterThanOrEqual(8);
      for (const x of records) expect(x.interference, x.pointId).toBeDefined();
      expect(
        inside.every(
          (x) => x.interference!.flagged && x.interference!.reasons.some((why) => why.startsWith('others busy')),
        ),
        `inside the load window:\n${shown(inside)}`,
      ).toBe(true);
      expect(
        outside.filter((x) => x.interference!.flagged).length,
        `outside the load window (the machine must be otherwise quiet; before the run it was ${background}% busy):\n${shown(outside)}`,
      ).toBe(0);
      // Every flagged measurement overlaps the load window.
      for (const x of records.filter((y) => y.interference!.flagged)) {
        expect(time(x.finishedAt) > loadStart && time(x.startedAt) < loadEnd, shown([x])).toBe(true);
      }
      // netperf still measured while loaded: the flag marks a measurement, it does not drop it.
      expect(records.every((x) => x.status === 'ok')).toBe(true);
      expect(r.stdout).toMatch(/\[flagged: others busy [\d.]+% > 75%\]/);

      const flagged = records.filter((x) => x.interference!.flagged).length;
      const tables = readFileSync(join(out, 'report/tables.md'), 'utf8');
      expect(tables).toContain(`| native | ${flagged} of 15 | others busy &gt; 75% (${flagged}) |`);
      const chart = JSON.parse(readFileSync(join(out, 'report/charts/fig4a-tcp-absolute-big.vl.json'), 'utf8')) as {
        data: { values: { flagged: boolean }[] };
      };
      expect(chart.data.values.some((v) => v.flagged)).toBe(true);
      expect((await testbedStatus(index)).up).toBe(false);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      expect(loadPids.filter(alive)).toEqual([]);
    }, 360_000);
  },
);
