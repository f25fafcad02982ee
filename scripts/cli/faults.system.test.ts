// Fault injection through the real CLI: real netperf and netserver on a real namespace testbed,
// virtnet run killed with SIGINT, SIGTERM and SIGKILL, netserver killed mid-point, a truncated
// results line, two runs on one testbed, `virtnet cleanup` beside a live run, and bad input.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTicks } from '../../actions/lib/core/liveness.ts';
import { measuredValues, taskKey } from '../../actions/lib/plan/schedule.ts';
import { plannedKeys } from '../../actions/lib/measure/session.ts';
import { latestRecords } from '../../actions/lib/measure/records.ts';
import { runCommand, waitUntil } from '../../actions/lib/core/proc.ts';
import { loadRun, RUN_LOCK_FILE, type LoadedRun } from '../../actions/lib/measure/run-dir.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedStatus } from '../../env/testbed/testbed.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-cli-faults-'));
// Our own lock and daemon registry: these tests never see (or disturb) runs outside them.
const stateDir = join(work, 'state');
const env = { ...process.env, VIRTNET_STATE_DIR: stateDir };
const indexes = [testIndex(3), testIndex(5), testIndex(6), testIndex(7)];
const started: ChildProcess[] = [];
afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await runCommand([process.execPath, CLI, 'cleanup', '--index', String(indexes[0])], { timeoutMs: 60_000, env });
  for (const index of indexes) await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

/** A small plan: 4 TCP_STREAM points of 2 s, in plan order, one retry. */
const planFile = join(work, 'small.json');
writeFileSync(
  planFile,
  JSON.stringify({
    formatVersion: 1,
    name: 'small',
    testLengthSeconds: 2,
    replicates: 1,
    warmupSeconds: 0,
    retries: 1,
    order: { randomize: false, seed: 1 },
    ports: { control: 12865, data: 12866 },
    sweeps: [
      {
        test: 'TCP_STREAM',
        series: 's',
        vary: 'sendSocketSize',
        from: 100,
        to: 12100,
        step: 4000,
        messageSize: 131072,
      },
    ],
  }),
);

function virtnet(...args: string[]) {
  return runCommand([process.execPath, CLI, ...args], { timeoutMs: 180_000, env });
}

/** A virtnet process we can signal while it runs, with its output so far. */
class Running {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    started.push(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitUntil(`output ${pattern}`, async () => pattern.test(this.stdout), {
      timeoutMs,
      intervalMs: 50,
      giveUp: () => (this.child.exitCode !== null ? `virtnet exited: ${this.stderr}${this.stdout}` : null),
    });
  }
}

async function netserversOn(index: number): Promise<number[]> {
  const r = await runCommand(['pgrep', '-f', `netserver .*-L 198\\.18\\.${index}\\.1 `], { timeoutMs: 5000 });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Every planned measurement has exactly one ok record, and there is no ok record beyond the plan. */
function expectExactlyThePlan(run: LoadedRun): void {
  const planned = new Set(
    plannedKeys(run.manifest.plan, run.manifest.environments, measuredValues(latestRecords(run.results.records))),
  );
  const ok = run.results.records.filter((r) => r.status === 'ok').map((r) => taskKey(r));
  expect(ok.length).toBe(new Set(ok).size);
  expect(new Set(ok)).toEqual(planned);
}

function measuredLines(stdout: string): number {
  return stdout.split('\n').filter((l) => /^\[\s*\d+\/\d+\] /.test(l)).length;
}

const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

describe.skipIf(missing !== null)(`virtnet run survives being stopped (real processes)${skipNote(missing)}`, () => {
  const index = indexes[0]!;

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s: tears down, flushes, exits %i, and resumes to exactly the plan', async (signal, code) => {
    const out = join(work, `stopped-${signal}`);
    const run = new Running(['run', '--plan', planFile, '--out', out, '--index', String(index), '--no-report']);
    await run.waitFor(/\[1\/4\]/);
    run.child.kill(signal);
    expect(await run.exited).toBe(code);
    expect(run.stdout).toContain(
      `${signal}: stopping after tearing down; the run can be resumed with: virtnet run --resume ${out}`,
    );
    const stopped = loadRun(out);
    expect(stopped.manifest.status).toBe('interrupted');
    expect(stopped.manifest.sessions[0]!.endReason).toBe(`interrupted (${signal})`);
    // Every measurement it announced is on disk, whole; the one cut short is not recorded.
    expect(stopped.results.truncatedLastLine).toBeNull();
    expect(stopped.results.records.length).toBe(measuredLines(run.stdout));
    expect(stopped.results.records.every((r) => r.status === 'ok')).toBe(true);
    expect((await testbedStatus(index)).up).toBe(false);
    expect(await netserversOn(index)).toEqual([]);
    expect(existsSync(join(out, RUN_LOCK_FILE))).toBe(false);

    const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toMatch(
      new RegExp(
        `starting \\(${4 - stopped.results.records.length} measurements, ${stopped.results.records.length} already done\\)`,
      ),
    );
    const final = loadRun(out);
    expect(final.manifest.status).toBe('complete');
    expect(final.manifest.sessions.map((s) => s.endReason)).toEqual([`interrupted (${signal})`, 'completed']);
    expect(final.results.records).toHaveLength(4);
    expectExactlyThePlan(final);
  });

  it('on SIGINT while the testbed and environment come up: still tears everything down and stays resumable', async () => {
    const out = join(work, 'stopped-early');
    const run = new Running(['run', '--plan', planFile, '--out', out, '--index', String(index), '--no-report']);
    await run.waitFor(/testbed \d+: /);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const stopped = loadRun(out);
    expect(stopped.manifest.status).toBe('interrupted');
    expect(stopped.results.records.length).toBe(measuredLines(run.stdout));
    expect((await testbedStatus(index)).up).toBe(false);
    expect(await netserversOn(index)).toEqual([]);
    const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expectExactlyThePlan(loadRun(out));
  });

  it('on SIGKILL: keeps every record written, cleanup removes what it left, and resume completes it', async () => {
    const out = join(work, 'killed');
    const run = new Running(['run', '--plan', planFile, '--out', out, '--index', String(index), '--no-report']);
    await run.waitFor(/\[2\/4\]/);
    const [netserver] = await netserversOn(index);
    run.child.kill('SIGKILL');
    await run.exited;
    const killed = loadRun(out);
    expect(killed.results.truncatedLastLine).toBeNull();
    expect(killed.results.records.length).toBeGreaterThanOrEqual(2);
    expect(killed.manifest.status).toBe('running'); // it never got to say otherwise
    // What a SIGKILL leaves: the testbed, netserver, and a lock naming a dead PID.
    expect((await testbedStatus(index)).up).toBe(true);
    expect(netserver).toBeDefined();
    expect(processStartTicks(netserver!)).not.toBeNull();
    expect(readFileSync(join(stateDir, `testbed-${index}.lock`), 'utf8')).toMatch(new RegExp(`^${run.child.pid} `));

    const cleanup = await virtnet('cleanup', '--index', String(index));
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`process ${netserver} (native:netserver: netserver -D -f -4 -L 198.18.${index}.1`);
    expect(cleanup.stdout).toContain(`lock of testbed ${index} held by PID ${run.child.pid}, which is gone`);
    expect(cleanup.stdout).toContain(`netns vnet${index}-client`);
    expect((await testbedStatus(index)).up).toBe(false);
    expect(await netserversOn(index)).toEqual([]);
    expect(existsSync(join(stateDir, `testbed-${index}.lock`))).toBe(false);

    const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toContain(
      `the run was last written by PID ${run.child.pid}, which is gone (killed?); continuing it`,
    );
    const final = loadRun(out);
    expect(final.manifest.status).toBe('complete');
    expect(final.manifest.sessions[0]!.endReason).toMatch(/^killed: no clean shutdown recorded/);
    expect(final.manifest.sessions[0]!.measuredInSession).toBe(killed.results.records.length);
    expectExactlyThePlan(final);
  });

  it('resume after SIGKILL without cleanup: ends the orphaned netserver and takes over the stale lock itself', async () => {
    const out = join(work, 'killed-no-cleanup');
    const run = new Running(['run', '--plan', planFile, '--out', out, '--index', String(index), '--no-report']);
    await run.waitFor(/\[1\/4\]/);
    const [orphan] = await netserversOn(index);
    run.child.kill('SIGKILL');
    await run.exited;
    const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toContain(`took over the testbed ${index} lock of PID ${run.child.pid}, which is gone`);
    expect(resumed.stdout).toContain(`ended process ${orphan} (native:netserver`);
    expectExactlyThePlan(loadRun(out));
    expect(await netserversOn(index)).toEqual([]);
  });

  it('sets aside a truncated last line, reports its line number, and measures that point again', async () => {
    const out = join(work, 'stopped-SIGINT');
    // The measurements only (the round-trip probes are lines of their own, not this test's matter).
    const complete = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.includes('"kind":"rtt-probe"'));
    // A crash in the middle of writing the 4th record: the first 3 whole, the 4th cut short.
    const cut = complete[3]!.slice(0, 120);
    writeFileSync(join(out, 'results.jsonl'), `${complete.slice(0, 3).join('\n')}\n${cut}`);
    const before = loadRun(out);
    expect(before.results.truncatedLastLine).toBe(4);
    expect(before.results.records).toHaveLength(3);
    const report = await virtnet('report', out, '--out', join(work, 'report-of-truncated'));
    expect(report.exitCode, report.stderr).toBe(0);

    const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toContain(
      'results.jsonl line 4 was cut short (a crash mid-write): it is ignored, kept aside as results.jsonl.partial-line-4, and that measurement is made again',
    );
    expect(resumed.stdout).toMatch(/starting \(1 measurements, 3 already done\)/);
    expect(readFileSync(join(out, 'results.jsonl.partial-line-4'), 'utf8')).toBe(cut);
    const final = loadRun(out);
    expect(final.results.truncatedLastLine).toBeNull();
    expect(final.results.records).toHaveLength(4);
    expectExactlyThePlan(final);
    // The resumed start made its own probes.
    expect(final.results.probes.map((p) => p.test)).toEqual(['TCP_RR', 'UDP_RR']);
  });
});

describe.skipIf(missing !== null)(
  `virtnet run when netserver dies mid-point (real processes)${skipNote(missing)}`,
  () => {
    const index = indexes[1]!;
    it("retries the point, records it failed with netperf's error, goes on, and a resume measures the failed points again", async () => {
      const out = join(work, 'netserver-killed');
      const run = new Running(['run', '--plan', planFile, '--out', out, '--index', String(index), '--no-report']);
      await run.waitFor(/\[1\/4\]/);
      const [netserver] = await netserversOn(index);
      // Halfway through the second point's 2 s test.
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(netserver!, 'SIGKILL');
      expect(await run.exited).toBe(1);
      expect(run.stdout).toMatch(
        /retry 1: TCP_STREAM:sendSocketSize=4100 replicate 1: recv_response: partial response received: 0 bytes/,
      );
      expect(run.stdout).toMatch(
        /\[2\/4\] native TCP_STREAM -s 4100 rep 1: FAILED: establish control: are you sure there is a netserver listening on 198\.18\.\d+\.1 at port 12865\?/,
      );
      expect(run.stdout).toMatch(/\[4\/4\] native TCP_STREAM -s 12100 rep 1: FAILED/);
      expect(run.stdout).toContain('run incomplete: 1 measured, 3 failed, 3 of 4 planned measurements still missing');
      const failed = loadRun(out);
      expect(failed.manifest.status).toBe('incomplete');
      expect(failed.results.records.map((r) => [r.status, r.attempts])).toEqual([
        ['ok', 1],
        ['failed', 2],
        ['failed', 2],
        ['failed', 2],
      ]);
      expect((await testbedStatus(index)).up).toBe(false);

      const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
      expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
      expect(resumed.stdout).toMatch(/starting \(3 measurements, 1 already done\)/);
      const final = loadRun(out);
      expect(final.manifest.status).toBe('complete');
      expect(final.results.records).toHaveLength(7); // append-only: the failed records stay
      expectExactlyThePlan(final);
    });
  },
);

describe.skipIf(missing !== null)(`two runs, one testbed (real processes)${skipNote(missing)}`, () => {
  const index = indexes[2]!;
  it('refuses the second run while the first holds the testbed, and cleanup leaves the live run alone', async () => {
    // 4 points of 8 s: long enough to still be measuring while the other commands below run.
    const first = new Running([
      'run',
      '--plan',
      planFile,
      '--test-length',
      '8',
      '--out',
      join(work, 'first'),
      '--index',
      String(index),
      '--no-report',
    ]);
    await first.waitFor(/\[1\/4\]/);
    const second = await virtnet(
      'run',
      '--plan',
      planFile,
      '--out',
      join(work, 'second'),
      '--index',
      String(index),
      '--no-report',
    );
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`testbed ${index} is in use by another virtnet process (PID ${first.child.pid})`);
    expect(existsSync(join(work, 'second'))).toBe(false);
    const again = await virtnet(
      'run',
      '--resume',
      join(work, 'first'),
      '--server',
      `198.18.${indexes[3]}.1`,
      '--no-report',
    );
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(
      `run directory ${join(work, 'first')} is in use by another virtnet process (PID ${first.child.pid})`,
    );

    const netservers = await netserversOn(index);
    expect(netservers).toHaveLength(1);
    const cleanup = await virtnet('cleanup', '--index', String(index));
    expect(first.child.exitCode, 'the first run ended before cleanup ran: the test proves nothing').toBeNull();
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(
      `kept (in use by a live run):\n  testbed ${index}: testbed ${index} is in use by another virtnet process (PID ${first.child.pid})`,
    );
    expect((await testbedStatus(index)).up).toBe(true);
    expect(await netserversOn(index)).toEqual(netservers);

    // Its holder gone, the lock goes with it.
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    expect(existsSync(join(stateDir, `testbed-${index}.lock`))).toBe(false);
    expect(existsSync(join(work, 'first', RUN_LOCK_FILE))).toBe(false);
  });

  it('takes over a stale lock of a dead PID and says so', async () => {
    const dead = spawn('true');
    await once(dead, 'exit');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, `testbed-${index}.lock`), `${dead.pid}\n`);
    const r = await virtnet(
      'run',
      '--plan',
      planFile,
      '--out',
      join(work, 'after-stale'),
      '--index',
      String(index),
      '--no-report',
      '--test-length',
      '1',
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`note: took over the testbed ${index} lock of PID ${dead.pid}, which is gone (killed?)`);
  });
});
