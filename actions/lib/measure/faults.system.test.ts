// Fault injection at the library level, with real processes on a real testbed: netperf hanging on
// a server that never answers, an environment that never becomes ready, a start() that never
// returns, netserver killed in the middle of a point, and a disk that fills up mid-run.
// (Signals, SIGKILL, cleanup, locks and bad input through the real CLI are in scripts/cli/faults.system.test.ts.)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentContext, EnvironmentDriver, StartedEnvironment } from './environment.ts';
import { EnvironmentError } from './environment.ts';
import { nativeEnvironment } from '../../../env/native/native.ts';
import { testbedForTests, testIndex } from '../testing/testbeds.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../testing/requirements.ts';
import { type Testbed, testbedDown } from '../../../env/testbed/testbed.ts';
import { type Plan, validatePlan } from '../plan/plan.ts';
import { Daemon, runCommand, waitUntil } from '../core/proc.ts';
import { latestRecords } from './records.ts';
import { executeRun, localHosts, type RunRequest } from './session.ts';
import { loadRun, RUN_LOCK_FILE } from './run-dir.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-faults-'));
const savedStateDir = process.env.VIRTNET_STATE_DIR;
// Our own daemon registry, so nothing here sees (or is seen by) runs outside this test.
process.env.VIRTNET_STATE_DIR = join(work, 'state');
afterAll(() => {
  if (savedStateDir === undefined) delete process.env.VIRTNET_STATE_DIR;
  else process.env.VIRTNET_STATE_DIR = savedStateDir;
  rmSync(work, { recursive: true, force: true });
});

function plan(overrides: Record<string, unknown>, sweeps: Record<string, unknown>[]): Plan {
  return validatePlan({
    formatVersion: 1,
    name: 'fault',
    testLengthSeconds: 1,
    replicates: 1,
    warmupSeconds: 0,
    retries: 1,
    order: { randomize: false, seed: 1 },
    ports: { control: 12865, data: 12866 },
    ...overrides,
    sweeps,
  });
}
const tcp = (from: number, to: number) => ({
  test: 'TCP_STREAM',
  series: 's',
  vary: 'sendSocketSize',
  from,
  to,
  step: 4000,
  messageSize: 131072,
});

/** A TCP server that accepts connections and never says a word: what a hung netserver looks like. */
function silentServer(address: string, port: number, label: string): Daemon {
  const script = `require('net').createServer((s) => s.on('data', () => {})).listen(${port}, ${JSON.stringify(address)}, () => console.log('listening'))`;
  return new Daemon([process.execPath, '-e', script], { label });
}

async function listening(daemon: Daemon): Promise<void> {
  await waitUntil('silent server', async () => daemon.output.includes('listening'), {
    timeoutMs: 5000,
    intervalMs: 50,
  });
}

async function netperfsTo(address: string): Promise<string> {
  const r = await runCommand(['pgrep', '-a', 'netperf'], { timeoutMs: 5000 });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(`-H ${address}`))
    .join('\n');
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

describe.skipIf(missing !== null)(`faults during a run (real netperf, real testbed)${skipNote(missing)}`, () => {
  let testbed: Testbed;
  beforeAll(async () => {
    testbed = await testbedForTests(2);
  });
  // testbedForTests registers its own teardown, but from inside beforeAll that hook is not collected.
  afterAll(async () => {
    await testbedDown(testIndex(2));
  });

  function request(
    outDir: string,
    p: Plan,
    environments: EnvironmentDriver[],
    extra: Partial<RunRequest> = {},
  ): RunRequest & { events: string[] } {
    const events: string[] = [];
    return {
      outDir,
      plan: p,
      planSource: 'fault-test',
      resume: false,
      environments,
      serverAddress: testbed.layout.serverAddress,
      hosts: localHosts(testbed.clientPrefix),
      link: testbed.link,
      settings: {},
      readyTimeoutMs: 10_000,
      repoDir: process.cwd(),
      signal: new AbortController().signal,
      onEvent: (e) =>
        events.push(e.kind === 'notice' ? `notice: ${e.message}` : e.kind === 'retry' ? `retry: ${e.error}` : e.kind),
      events,
      ...extra,
    };
  }

  it('kills a netperf that hangs on a server that never answers, records the point as failed, and goes on', async () => {
    let server: Daemon | null = null;
    const hung: EnvironmentDriver = {
      name: 'hung',
      title: 'Hung',
      available: async () => ({ ok: true }),
      cleanup: async () => [],
      start: async (ctx): Promise<StartedEnvironment> => {
        server = silentServer(ctx.serverAddress, ctx.ports.control, 'test:silent');
        await listening(server);
        return {
          endpoint: { address: ctx.serverAddress, controlPort: ctx.ports.control, dataPort: ctx.ports.data },
          description: {
            name: 'hung',
            summary: 'a server that never answers',
            details: {},
            accelerator: 'none',
            startupSeconds: 0,
          },
          stop: async () => server!.stop(),
        };
      },
    };
    const out = join(work, 'hang');
    const req = request(out, plan({}, [tcp(100, 4100)]), [hung, nativeEnvironment], { netperfGraceSeconds: 2 });
    const t0 = performance.now();
    const summary = await executeRun(req);
    const seconds = (performance.now() - t0) / 1000;
    const records = loadRun(out).results.records;
    const hungRecords = records.filter((r) => r.environment === 'hung');
    expect(hungRecords).toHaveLength(2);
    for (const r of hungRecords) {
      expect(r.status).toBe('failed');
      expect(r.attempts).toBe(2);
      expect(r.error).toBe('netperf did not finish in time and was killed');
    }
    expect(req.events.filter((e) => e.startsWith('retry: netperf did not finish in time'))).toHaveLength(2);
    // 2 points x 2 attempts x (1 s test + 2 s grace), not forever.
    expect(seconds).toBeLessThan(60);
    // The sweep went on to the next environment, which measured everything.
    expect(records.filter((r) => r.environment === 'native' && r.status === 'ok')).toHaveLength(2);
    expect(summary.status).toBe('incomplete');
    expect(summary.missing).toBe(2);
    expect(await netperfsTo(testbed.layout.serverAddress)).toBe('');
    expect(alive(server!.pid)).toBe(false);
  });

  it('gives up on an environment that never becomes ready, keeps its console log, tears it down, and measures the next', async () => {
    let server: Daemon | null = null;
    const neverReady: EnvironmentDriver = {
      name: 'silent',
      title: 'Silent',
      available: async () => ({ ok: true }),
      cleanup: async () => [],
      start: async (ctx: EnvironmentContext): Promise<StartedEnvironment> => {
        const daemon = silentServer(ctx.serverAddress, ctx.ports.control, 'test:silent');
        server = daemon;
        const endpoint = { address: ctx.serverAddress, controlPort: ctx.ports.control, dataPort: ctx.ports.data };
        try {
          await waitUntil('silent guest', () => ctx.probe(endpoint), {
            timeoutMs: ctx.readyTimeoutMs,
            intervalMs: 200,
            signal: ctx.signal,
          });
        } catch (e) {
          await daemon.stop();
          const logFile = join(ctx.logDir, 'silent-console.log');
          writeFileSync(logFile, daemon.output);
          throw new EnvironmentError(`silent: ${(e as Error).message}`, logFile);
        }
        throw new Error('unreachable: the silent server answered a netperf probe');
      },
    };
    const out = join(work, 'never-ready');
    const req = request(out, plan({}, [tcp(100, 100)]), [neverReady, nativeEnvironment], { readyTimeoutMs: 2000 });
    const summary = await executeRun(req);
    const run = loadRun(out);
    const error = run.manifest.environmentErrors.silent!;
    expect(error).toMatch(/^silent: silent guest: not ready after 2 s \(console log: .*silent-console\.log\)$/);
    expect(readFileSync(join(out, 'logs', 'silent-console.log'), 'utf8')).toContain('listening');
    expect(alive(server!.pid)).toBe(false);
    expect(req.events).toContain('environment-failed');
    expect(run.results.records.map((r) => `${r.environment}:${r.status}`)).toEqual(['native:ok']);
    expect(summary.status).toBe('incomplete');
    expect(run.manifest.environmentDescriptions.native).toBeDefined();
  });

  it('stops waiting for a start() that never returns, aborts it, and goes on', async () => {
    let server: Daemon | null = null;
    const stuck: EnvironmentDriver = {
      name: 'stuck',
      title: 'Stuck',
      available: async () => ({ ok: true }),
      cleanup: async () => [],
      // Ignores its ready timeout entirely (a driver waiting on a console line that never comes),
      // but does honour its abort signal.
      start: (ctx) =>
        new Promise((_, reject) => {
          server = silentServer(ctx.serverAddress, ctx.ports.control, 'test:silent');
          ctx.signal!.addEventListener('abort', () => {
            void server!.stop().then(() => reject(new Error('aborted')));
          });
        }),
    };
    const out = join(work, 'stuck');
    const t0 = performance.now();
    const summary = await executeRun(
      request(out, plan({}, [tcp(100, 100)]), [stuck, nativeEnvironment], { readyTimeoutMs: 1000, startGraceMs: 1000 }),
    );
    expect((performance.now() - t0) / 1000).toBeLessThan(30);
    expect(loadRun(out).manifest.environmentErrors.stuck).toBe(
      'stuck: did not become ready within 2.0 s; gave up waiting for it',
    );
    expect(summary.outcome, JSON.stringify(summary.outcome)).toMatchObject({ measured: 1 });
    await waitUntil('stuck server stopped', async () => !alive(server!.pid), { timeoutMs: 5000 });
  });

  it('retries a point whose netserver was killed mid-test, and measures it once netserver is back', async () => {
    // A supervised netserver, like a container with a restart policy: it comes back after a kill.
    let current: StartedEnvironment | null = null;
    let supervising = true;
    const pids: number[] = [];
    const supervised: EnvironmentDriver = {
      ...nativeEnvironment,
      start: async (ctx) => {
        current = await nativeEnvironment.start(ctx);
        pids.push(Number(current.description.details.pid));
        void (async () => {
          while (supervising) {
            await new Promise((r) => setTimeout(r, 100));
            if (supervising && !alive(pids.at(-1))) {
              current = await nativeEnvironment.start(ctx);
              pids.push(Number(current.description.details.pid));
            }
          }
        })();
        return {
          ...current,
          stop: async () => {
            supervising = false;
            await current!.stop();
          },
        };
      },
    };
    const out = join(work, 'netserver-killed');
    const req = request(out, plan({ testLengthSeconds: 3 }, [tcp(100, 8100)]), [supervised]);
    let measured = 0;
    const onEvent = req.onEvent;
    req.onEvent = (e) => {
      onEvent(e);
      // 1.5 s into the second point's 3 s test, kill its netserver.
      if (e.kind === 'measured' && ++measured === 1) setTimeout(() => process.kill(pids[0]!, 'SIGKILL'), 1500);
    };
    const summary = await executeRun(req);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    const retries = req.events.filter((e) => e.startsWith('retry:'));
    expect(retries).toEqual(['retry: recv_response: partial response received: 0 bytes']);
    const records = loadRun(out).results.records;
    expect(records.map((r) => [r.status, r.attempts])).toEqual([
      ['ok', 1],
      ['ok', 2],
      ['ok', 1],
    ]);
    expect(summary.status).toBe('complete');
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  describe('a disk that fills up mid-run', () => {
    const mountPoint = join(work, 'small-disk');
    let mounted = false;
    beforeAll(() => {
      mkdirSync(mountPoint, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'virtnet-test-tmpfs', mountPoint]);
      mounted = true;
    });
    afterAll(() => {
      if (mounted) execFileSync('umount', [mountPoint]);
    });

    it('stops with a clear message, loses nothing written, and resumes once there is room', async () => {
      const out = join(mountPoint, 'run');
      const p = plan({}, [tcp(100, 12100)]);
      const filler = join(mountPoint, 'filler');
      const req = request(out, p, [nativeEnvironment]);
      const onEvent = req.onEvent;
      let measured = 0;
      req.onEvent = (e) => {
        onEvent(e);
        // After the second record is on disk, fill the disk to the last byte.
        if (e.kind === 'measured' && ++measured === 2) {
          const chunk = Buffer.alloc(4096);
          for (let i = 0; i < 64; i++) {
            try {
              writeFileSync(filler, chunk, { flag: 'a' });
            } catch {
              break;
            }
          }
          for (const size of [1024, 256, 64, 16, 4, 1]) {
            for (let i = 0; i < 16; i++) {
              try {
                writeFileSync(filler, Buffer.alloc(size), { flag: 'a' });
              } catch {
                break;
              }
            }
          }
        }
      };
      // The disk is full to its last block, but results.jsonl may still have room in its own last
      // block (tmpfs allocates whole pages): one more record may fit. Whatever is written is kept.
      const error = await executeRun(req).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(
        /could not write to .*results\.jsonl \(ENOSPC: no space left on the device\): the run stops here; the \d+ records \(and 2 round-trip probes\) before this one are on disk, and the run can be resumed once the problem is fixed/,
      );
      const written = Number(/the (\d+) records/.exec(error!.message)![1]);
      expect(written).toBeGreaterThanOrEqual(2);
      expect(written).toBeLessThan(4);
      const text = readFileSync(join(out, 'results.jsonl'), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const after = loadRun(out);
      expect(after.results.truncatedLastLine).toBeNull();
      expect(after.results.records).toHaveLength(written);
      expect(after.results.records.every((r) => r.status === 'ok')).toBe(true);
      expect(existsSync(join(out, RUN_LOCK_FILE))).toBe(false);
      expect(req.events.some((e) => e.startsWith('notice: could not write') && e.includes('manifest.json'))).toBe(true);

      rmSync(filler);
      const resumed = await executeRun(request(out, null as unknown as Plan, [nativeEnvironment], { resume: true }));
      expect(resumed.status).toBe('complete');
      const final = loadRun(out);
      expect(latestRecords(final.results.records).filter((r) => r.status === 'ok')).toHaveLength(4);
      expect(final.results.records).toHaveLength(4);
      expect(final.manifest.sessions).toHaveLength(2);
      // The resumed start made its own probes.
      expect(final.results.probes.map((p) => `${p.test} ${p.session}`)).toEqual([
        'TCP_RR 1',
        'UDP_RR 1',
        'TCP_RR 2',
        'UDP_RR 2',
      ]);
    });
  });
});
