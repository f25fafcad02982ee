// The CPU cost of real measurements: native and docker measured on a real testbed with a delay
// line, through the run's own session, record a positive CPU cost whose scope is their netserver
// (the process itself; the container's cgroup, whose usage the test reads on its own), with the
// delay line, which spins a core for the whole window, left out.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuScope, EnvironmentDriver } from './environment.ts';
import { nativeEnvironment } from '../../../env/native/native.ts';
import { dockerEnvironment } from '../../../env/docker/docker.ts';
import { testIndex } from '../testing/testbeds.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../testing/requirements.ts';
import { type Testbed, testbedDown, testbedUp } from '../../../env/testbed/testbed.ts';
import { validatePlan } from '../plan/plan.ts';
import { executeRun, localHosts } from './session.ts';
import { loadRun } from './run-dir.ts';
import { cgroupUsageFiles, parseCgroupUsageNs } from './cpu-cost.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-cpu-cost-'));
const savedStateDir = process.env.VIRTNET_STATE_DIR;
process.env.VIRTNET_STATE_DIR = join(work, 'state');
const index = testIndex(23);
afterAll(async () => {
  await testbedDown(index);
  if (savedStateDir === undefined) delete process.env.VIRTNET_STATE_DIR;
  else process.env.VIRTNET_STATE_DIR = savedStateDir;
  rmSync(work, { recursive: true, force: true });
});

const docker = await dockerEnvironment.available({});
const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
  ['dockerd', docker.ok ? null : docker.reason],
]);

const text = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};
const comm = (pid: number) => text(`/proc/${pid}/comm`)?.trim() ?? null;
function cgroupUsageNs(path: string): number {
  for (const { file, kind } of cgroupUsageFiles(path)) {
    const t = text(file);
    if (t !== null) return parseCgroupUsageNs(t, kind, file);
  }
  throw new Error(`cgroup ${path}: no usage file`);
}
function cgroupProcesses(path: string): string[] {
  const procs = [`/sys/fs/cgroup/cpuacct/${path}/cgroup.procs`, `/sys/fs/cgroup/${path}/cgroup.procs`]
    .map(text)
    .find((t) => t !== null);
  return (procs ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map((pid) => comm(Number(pid)) ?? '?');
}

/** What the scope was when each measurement asked for it, seen from outside the driver. */
interface Seen {
  scopes: CpuScope[];
  processes: string[][];
  /** The container cgroup's usage when the first measurement started and just before the environment stopped. */
  usageNs: { first: number | null; last: number | null };
}

/** The driver as it is, with its scope looked at independently each time the sweep asks for it. */
function watched(driver: EnvironmentDriver, seen: Seen): EnvironmentDriver {
  return {
    ...driver,
    start: async (ctx) => {
      const started = await driver.start(ctx);
      const scopeOf = started.cpuScope;
      return {
        ...started,
        ...(scopeOf
          ? {
              cpuScope: () => {
                const scope = scopeOf();
                seen.scopes.push(scope);
                seen.processes.push([
                  ...scope.pids.map((p) => comm(p) ?? '?'),
                  ...scope.cgroups.flatMap(cgroupProcesses),
                ]);
                if (scope.cgroups[0] !== undefined) seen.usageNs.first ??= cgroupUsageNs(scope.cgroups[0]);
                return scope;
              },
            }
          : {}),
        stop: async () => {
          const cgroup = seen.scopes[0]?.cgroups[0];
          if (cgroup !== undefined) seen.usageNs.last = cgroupUsageNs(cgroup);
          await started.stop();
        },
      };
    },
  };
}

describe.skipIf(missing !== null)(`CPU cost of real measurements${skipNote(missing)}`, () => {
  let testbed: Testbed;
  beforeAll(async () => {
    await testbedDown(index);
    testbed = await testbedUp({ index, rateMbit: 100, oneWayDelayMicroseconds: 200 });
  }, 60_000);

  it('records native and docker server CPU per gigabyte, scoped to their netserver, the delay line left out', async () => {
    expect(testbed.delayLinePid).not.toBeNull();
    const seen: Record<string, Seen> = {
      native: { scopes: [], processes: [], usageNs: { first: null, last: null } },
      docker: { scopes: [], processes: [], usageNs: { first: null, last: null } },
    };
    const plan = validatePlan({
      formatVersion: 1,
      name: 'cpu-cost',
      testLengthSeconds: 3,
      replicates: 1,
      warmupSeconds: 0,
      retries: 1,
      order: { randomize: false, seed: 1 },
      ports: { control: 20000 + index * 10, data: 20001 + index * 10 },
      sweeps: [
        {
          test: 'TCP_STREAM',
          series: 'tcp',
          vary: 'sendSocketSize',
          from: 16100,
          to: 16100,
          step: 1,
          messageSize: 131072,
        },
        { test: 'UDP_STREAM', series: 'udp', vary: 'messageSize', from: 1450, to: 1450, step: 1 },
      ],
    });
    const out = join(work, 'run');
    const delayLine = testbed.delayLinePid!;
    await executeRun({
      outDir: out,
      plan,
      planSource: 'cpu-cost-test',
      resume: false,
      environments: [watched(nativeEnvironment, seen.native!), watched(dockerEnvironment, seen.docker!)],
      serverAddress: testbed.layout.serverAddress,
      hosts: localHosts(testbed.clientPrefix),
      link: testbed.link,
      settings: { testbedIndex: String(index) },
      readyTimeoutMs: 60_000,
      probeSeconds: 0,
      ownPids: () => [delayLine],
      repoDir: process.cwd(),
      signal: new AbortController().signal,
      onEvent: () => {},
    });
    const { manifest, results } = loadRun(out);
    expect(manifest.environmentErrors).toEqual({});
    for (const environment of ['native', 'docker']) {
      const records = results.records.filter((r) => r.environment === environment);
      expect(records.map((r) => [r.test, r.status])).toEqual([
        ['TCP_STREAM', 'ok'],
        ['UDP_STREAM', 'ok'],
      ]);
      // The scope the sweep asked for at each measurement holds netserver, and only what serves.
      expect(seen[environment]!.scopes).toHaveLength(2);
      for (const processes of seen[environment]!.processes) expect(processes).toContain('netserver');
      for (const r of records) {
        const cpu = r.cpu!;
        expect(cpu.scope).toEqual(seen[environment]!.scopes[0]);
        expect(cpu.unreadable).toBeNull();
        expect(cpu.serverSeconds!).toBeGreaterThan(0);
        // The delay line spins a core the whole window: counted, it alone would be about wallSeconds.
        expect(cpu.serverSeconds!).toBeLessThan(0.8 * cpu.wallSeconds);
        expect(cpu.deliveredBytes).toBe(
          Math.round(((r.metrics!.throughputMbps * 1e6) / 8) * r.metrics!.elapsedSeconds),
        );
        expect(cpu.deliveredBytes).toBeGreaterThan(10e6);
        expect(cpu.serverSecondsPerGigabyte!).toBeCloseTo((cpu.serverSeconds! * 1e9) / cpu.deliveredBytes, 4);
        expect(cpu.clientSeconds).toBeGreaterThan(0);
        expect(cpu.wallSeconds).toBeGreaterThanOrEqual(r.metrics!.elapsedSeconds - 0.1);
        expect(cpu.hostSoftirqSeconds).toBeGreaterThanOrEqual(0);
      }
    }
    const nativeRecords = results.records.filter((r) => r.environment === 'native');
    expect(nativeRecords[0]!.cpu!.scope).toEqual({
      cgroups: [],
      pids: [Number(manifest.environmentDescriptions.native!.details.pid)],
    });
    // docker: the container's own cgroup, and its usage, read here, grew by at least what the records count.
    const cgroup = manifest.environmentDescriptions.docker!.details.cpuCgroup!;
    const dockerRecords = results.records.filter((r) => r.environment === 'docker');
    expect(dockerRecords[0]!.cpu!.scope).toEqual({ cgroups: [cgroup], pids: [] });
    const { first, last } = seen.docker!.usageNs;
    const recorded = dockerRecords.reduce((sum, r) => sum + r.cpu!.serverSeconds!, 0);
    expect((last! - first!) / 1e9).toBeGreaterThanOrEqual(recorded - 0.001);
  }, 600_000);
});
