// The command base for real: a command variant whose start command is the host's netserver in the
// server's namespace of a real testbed, whose ready command waits for a file the test creates late,
// and whose stop command leaves a mark; measured by the real CLI from a user's variants file; a run
// killed with SIGKILL leaves its start process, which `virtnet cleanup` ends by PID; a start command
// that exits at once fails the start with its output kept.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { EnvironmentError } from '../../actions/lib/measure/environment.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testbedForTests, testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown } from '../testbed/testbed.ts';
import { findEnvironment } from '../registry.ts';
import { validateVariants } from '../variants.ts';
import { cleanupCommandEnvironments } from './command.ts';
import { TINY_PLAN } from '../../actions/lib/testing/plans.ts';

const CLI = new URL('../../scripts/virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-command-'));
const runIndex = testIndex(30);
const driverIndex = testIndex(31);

afterAll(async () => {
  await cleanupCommandEnvironments();
  for (const i of [runIndex, driverIndex]) await testbedDown(i);
  rmSync(work, { recursive: true, force: true });
});

/** netserver processes serving a testbed's server address (by their command line; ours only). */
async function netservers(index: number): Promise<string[]> {
  const r = await runCommand(['pgrep', '-a', '-f', `^/usr/bin/netserver .*-L 198\\.18\\.${index}\\.1 `], {
    timeoutMs: 5000,
  });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** The host's netserver as a command variant: what a user with their own launcher writes. */
function variantFile(file: string, name: string, readyFlag: string, stopMark: string): string {
  writeFileSync(
    file,
    JSON.stringify({
      variants: [
        {
          name,
          base: 'command',
          title: 'netserver by command',
          command: {
            start: ['/usr/bin/netserver', '-D', '-f', '-4', '-L', '{{serverAddress}}', '-p', '{{controlPort}}'],
            ready: ['/usr/bin/test', '-e', readyFlag],
            stop: ['/usr/bin/touch', `${stopMark}-{{testbedIndex}}-{{name}}`],
            netserver: { address: 'server', ownsAddress: true },
          },
        },
      ],
    }),
  );
  return file;
}

const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

describe.skipIf(missing !== null)(`command variants on a real testbed${skipNote(missing)}`, () => {
  it("a user's command variant is started, waited for, measured, stopped and recorded by the real CLI", async () => {
    const readyFlag = join(work, 'run-ready');
    const stopMark = join(work, 'run-stopped');
    const variants = variantFile(join(work, 'mine.json'), 'netserver-cmd', readyFlag, stopMark);
    const plan = join(work, 'tiny.json');
    writeFileSync(plan, JSON.stringify(TINY_PLAN));
    const out = join(work, 'run');
    const running = runCommand(
      [
        process.execPath,
        CLI,
        'run',
        '--plan',
        plan,
        '--env',
        'netserver-cmd',
        '--variants',
        variants,
        '--index',
        String(runIndex),
        '--out',
        out,
        '--no-report',
      ],
      { timeoutMs: 180_000 },
    );
    // The ready command fails until this file exists: made 1.5 s after the start process is up, so
    // the start must wait for it (bounded: 60 s to see the start process).
    let finished = false;
    void running.then(() => (finished = true));
    for (let i = 0; i < 600 && !finished && (await netservers(runIndex)).length === 0; i++)
      await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 1500));
    writeFileSync(readyFlag, '');
    const r = await running;
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = loadRun(out);
    const d = run.manifest.environmentDescriptions['netserver-cmd']!;
    expect(d.variant!.base).toBe('command');
    expect(d.variant!.options.start).toBe(
      JSON.stringify(['/usr/bin/netserver', '-D', '-f', '-4', '-L', '{{serverAddress}}', '-p', '{{controlPort}}']),
    );
    expect(d.details.startCommand).toBe(`/usr/bin/netserver -D -f -4 -L 198.18.${runIndex}.1 -p 12865`);
    expect(d.details.netserver).toBe(`198.18.${runIndex}.1:12865, data port 12866 (netserver holds the address)`);
    expect(Number(d.details.readyCalls)).toBeGreaterThan(1);
    // Waited for the late file: the start took at least the 1.5 s before it appeared.
    expect(d.startupSeconds).toBeGreaterThan(1.4);
    expect(d.accelerator).toBe('none');
    const records = run.results.records.filter((x) => x.environment === 'netserver-cmd');
    expect(records.map((x) => `${x.pointId} ${x.status}`)).toEqual([
      'TCP_STREAM:sendSocketSize=16100 ok',
      'UDP_STREAM:requestSize=1450 ok',
    ]);
    for (const x of records) {
      // Through the 100 Mbit/s testbed link: the native path's figures, never above its goodput.
      expect(x.metrics!.throughputMbps).toBeGreaterThan(50);
      expect(x.metrics!.throughputMbps).toBeLessThan(97);
      // Its CPU cost is the start process's: the netserver that served the test (-f: in-process).
      expect(x.cpu!.scope).toEqual({ cgroups: [], pids: [Number(d.details.startPid)] });
      expect(x.cpu!.serverSeconds).toBeGreaterThan(0);
    }
    // The stop command ran, with its placeholders filled in; the start process is gone.
    expect(existsSync(`${stopMark}-${runIndex}-netserver-cmd`)).toBe(true);
    expect(await netservers(runIndex)).toEqual([]);
    expect(readFileSync(join(out, 'logs', 'netserver-cmd-command.log'), 'utf8')).toContain(
      `stop: /usr/bin/touch ${stopMark}-${runIndex}-netserver-cmd: exited 0`,
    );
  });

  it('a run killed with SIGKILL leaves the start process; virtnet cleanup ends it by PID', async () => {
    const readyFlag = join(work, 'kill-ready');
    writeFileSync(readyFlag, '');
    const variants = variantFile(join(work, 'kill.json'), 'netserver-kill', readyFlag, join(work, 'kill-stopped'));
    const plan = join(work, 'long.json');
    writeFileSync(plan, JSON.stringify({ ...TINY_PLAN, testLengthSeconds: 30 }));
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--plan',
        plan,
        '--env',
        'netserver-kill',
        '--variants',
        variants,
        '--index',
        String(runIndex),
      ].concat(['--out', join(work, 'killed'), '--no-report']),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      for (let i = 0; i < 300 && !/\[1\/2\] netserver-kill/.test(output) && child.exitCode === null; i++)
        await new Promise((res) => setTimeout(res, 200));
      expect(output, output).toMatch(/\[1\/2\] netserver-kill/);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await netservers(runIndex)).toHaveLength(1);
    const cleanup = await runCommand([process.execPath, CLI, 'cleanup', '--index', String(runIndex)], {
      timeoutMs: 60_000,
    });
    expect(cleanup.exitCode, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/process \d+ \(command:netserver-kill: \/usr\/bin\/netserver -D -f -4 -L /);
    expect(await netservers(runIndex)).toEqual([]);
  });

  it('the driver: its CPU scope is the start process; a start command that exits at once fails with its output kept', async () => {
    const testbed = await testbedForTests(31);
    const logDir = mkdtempSync(join(work, 'driver-'));
    const ctx = {
      serverAddress: testbed.layout.serverAddress,
      ports: { control: 12865, data: 12866 },
      logDir,
      probe: netperfProbe(testbed.clientPrefix),
      readyTimeoutMs: 30_000,
      settings: { testbedIndex: String(driverIndex) },
      log: () => {},
    };
    const ready = join(work, 'driver-ready');
    writeFileSync(ready, '');
    const [good] = validateVariants(
      JSON.parse(readFileSync(variantFile(join(work, 'd.json'), 'cmd-driver', ready, join(work, 'd-stop')), 'utf8')),
      'd.json',
    );
    const started = await findEnvironment('cmd-driver', [good!]).start(ctx);
    try {
      const pid = Number(started.description.details.startPid);
      expect(pid).toBeGreaterThan(0);
      expect(started.cpuScope!()).toEqual({ cgroups: [], pids: [pid] });
      expect(started.endpoint).toEqual({
        address: testbed.layout.serverAddress,
        controlPort: 12865,
        dataPort: 12866,
        dataAddress: testbed.layout.serverAddress,
      });
    } finally {
      await started.stop();
    }
    expect(await netservers(driverIndex)).toEqual([]);

    const [bad] = validateVariants(
      {
        variants: [{ name: 'cmd-bad', base: 'command', command: { start: ['/usr/bin/ls', '/nonexistent-virtnet'] } }],
      },
      'bad.json',
    );
    const t0 = performance.now();
    const error = await findEnvironment('cmd-bad', [bad!])
      .start(ctx)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).message).toMatch(
      /^cmd-bad: netserver at 198\.18\.\d+\.1:12865: the start command exited 2 before netserver answered: /,
    );
    // Given up when the process ended, not at the 30 s timeout.
    expect((performance.now() - t0) / 1000).toBeLessThan(20);
    expect((error as EnvironmentError).logFile).toBe(join(logDir, 'cmd-bad-command.log'));
    expect(readFileSync(join(logDir, 'cmd-bad-command.log'), 'utf8')).toContain(
      'start: /usr/bin/ls /nonexistent-virtnet',
    );
    expect(readFileSync(join(logDir, 'cmd-bad-command.log'), 'utf8')).toContain(
      "ls: cannot access '/nonexistent-virtnet': No such file or directory",
    );
  });
});
