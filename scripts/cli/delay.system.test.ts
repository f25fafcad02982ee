// The delay line through the real CLI: a run with --delay records it; the delay line killed mid-run
// stops the run with a clear error and loses nothing; a SIGKILLed run's delay line is removed by
// `virtnet cleanup`. Real netperf, netserver and namespaces.

import { isAlive } from '../../actions/lib/core/liveness.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTicks, runCommand, waitUntil } from '../../actions/lib/core/proc.ts';
import { expandPoints } from '../../actions/lib/plan/plan.ts';
import { taskKey } from '../../actions/lib/plan/schedule.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedStatus } from '../../env/testbed/testbed.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-cli-delay-'));
// Our own state directory: its delay-line registry and locks are this file's alone.
const stateDir = join(work, 'state');
const env = { ...process.env, VIRTNET_STATE_DIR: stateDir };
const index = testIndex(9);
const started: ChildProcess[] = [];
afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await runCommand([process.execPath, CLI, 'cleanup', '--index', String(index)], { timeoutMs: 60_000, env });
  await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

/** 4 TCP_STREAM points of 2 s in plan order, one retry. */
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

const virtnet = (...args: string[]) => runCommand([process.execPath, CLI, ...args], { timeoutMs: 180_000, env });

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
  async waitFor(pattern: RegExp): Promise<void> {
    await waitUntil(`output ${pattern}`, async () => pattern.test(this.stdout), {
      timeoutMs: 90_000,
      intervalMs: 50,
      giveUp: () => (this.child.exitCode !== null ? `virtnet exited: ${this.stderr}${this.stdout}` : null),
    });
  }
}

/** The PID of testbed `index`'s delay line, from the registry in our state directory. */
function delayLinePid(): number {
  return (JSON.parse(readFileSync(join(stateDir, 'delay-lines', `${index}.json`), 'utf8')) as { pid: number }).pid;
}

const measuredLines = (stdout: string) => stdout.split('\n').filter((l) => /^\[\s*\d+\/\d+\] /.test(l)).length;

function planKeys(out: string): { planned: Set<string>; ok: string[] } {
  const run = loadRun(out);
  const planned = new Set(
    expandPoints(run.manifest.plan).map((p) => taskKey({ environment: 'native', pointId: p.id, replicate: 1 })),
  );
  return { planned, ok: run.results.records.filter((r) => r.status === 'ok').map((r) => taskKey(r)) };
}

const missing = requireServices([['root', rootMissing()]]);

describe.skipIf(missing !== null)(`virtnet run --delay (real processes)${skipNote(missing)}`, () => {
  it('stops with a clear error when the delay line dies mid-run, keeps every record, and a resume completes the run with the same delay', async () => {
    const out = join(work, 'delay-killed');
    const run = new Running([
      'run',
      '--plan',
      planFile,
      '--out',
      out,
      '--index',
      String(index),
      '--delay',
      '1ms',
      '--no-report',
    ]);
    await run.waitFor(/\[1\/4\]/);
    expect(run.stdout).toMatch(/delay 1000 us one way \(1 ms\); client TCP cubic/);
    const pid = delayLinePid();
    // Halfway through the second point's 2 s test.
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(pid, 'SIGKILL');
    expect(await run.exited).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `virtnet run: FAILED: the delay line of testbed ${index} \\(PID ${pid}\\) is gone.*the run stopped; the measurement in progress was discarded.*Continue with: virtnet run --resume ${out}`,
      ),
    );
    const stopped = loadRun(out);
    expect(stopped.manifest.status).toBe('interrupted');
    expect(stopped.manifest.sessions[0]!.endReason).toMatch(
      /^interrupted \(delay line failed: the delay line of testbed \d+ \(PID \d+\) is gone/,
    );
    expect(stopped.manifest.link?.oneWayDelayMicroseconds).toBe(1000);
    expect(stopped.manifest.hosts.client?.sysctls['net.ipv4.tcp_congestion_control']).toBe('cubic');
    // Every measurement announced is on disk and ok: none was made on a link without its delay.
    expect(stopped.results.records.length).toBe(measuredLines(run.stdout));
    expect(stopped.results.records.length).toBeGreaterThanOrEqual(1);
    expect(stopped.results.records.every((r) => r.status === 'ok')).toBe(true);
    expect((await testbedStatus(index)).up).toBe(false);

    const changed = await virtnet('run', '--resume', out, '--index', String(index), '--delay', 'off', '--no-report');
    expect(changed.exitCode).toBe(2);
    expect(changed.stderr).toContain(
      '--delay: the run was measured with delay 1000 us one way (1 ms); a resume cannot change it to none',
    );

    const resumed = await virtnet('run', '--resume', out, '--index', String(index), '--no-report');
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toMatch(/delay 1000 us one way \(1 ms\)/);
    const { planned, ok } = planKeys(out);
    expect(new Set(ok)).toEqual(planned);
    expect(ok).toHaveLength(planned.size);
    expect(loadRun(out).manifest.status).toBe('complete');
    expect((await testbedStatus(index)).delayLine).toBeNull();
  });

  it('after a SIGKILLed run, virtnet cleanup ends its delay line by PID', async () => {
    const out = join(work, 'run-killed');
    const run = new Running([
      'run',
      '--plan',
      planFile,
      '--out',
      out,
      '--index',
      String(index),
      '--delay',
      '0.2ms',
      '--no-report',
    ]);
    await run.waitFor(/\[1\/4\]/);
    const pid = delayLinePid();
    const ticks = processStartTicks(pid);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(isAlive(pid, ticks)).toBe(true); // the delay line outlives the run that started it
    const cleanup = await virtnet('cleanup', '--index', String(index));
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`delay line of testbed ${index} (PID ${pid})`);
    expect(isAlive(pid, ticks)).toBe(false);
    expect(await testbedStatus(index)).toMatchObject({ up: false, delayLine: null });
  });

  it('testbed up --delay refuses a delay it cannot read, naming the option and the value', async () => {
    const r = await virtnet('testbed', 'up', '--index', String(index), '--delay', '200');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--delay: expected a one-way delay such as 0.2ms or 200us, or off; got "200"');
    expect((await testbedStatus(index)).up).toBe(false);
  });
});
