// The gvisor and gvisor-host variants against a real dockerd with runsc registered (as
// scripts/start-dockerd.sh does), a real namespace testbed and real netperf: what they record of
// runsc, where their CPU time is counted, real TCP and UDP through them, and nothing left behind
// after stop, after a run's SIGKILL and the driver's cleanup. Skipped with the reason where runsc or
// dockerd is missing; with CI=true that fails instead.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, sleep } from '../../actions/lib/core/proc.ts';
import type { EnvironmentContext, EnvironmentDriver } from '../../actions/lib/measure/environment.ts';
import { netperfArgs, parseNetperfOutput } from '../../actions/lib/measure/netperf.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import {
  netserverMissing,
  requireServices,
  rootMissing,
  runscMissing,
  skipNote,
} from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { findEnvironment } from '../registry.ts';
import { type Testbed, testbedDown, testbedLayout, testbedStatus, testbedUp } from '../testbed/testbed.ts';
import { dockerEnvironment } from './docker.ts';
import { containerName } from './spec.ts';
import { TINY_PLAN } from '../../actions/lib/testing/plans.ts';

const CLI = new URL('../../scripts/virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-gvisor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const gvisor = findEnvironment('gvisor');
const gvisorHost = findEnvironment('gvisor-host');

async function docker(...args: string[]) {
  return runCommand(['docker', ...args], { timeoutMs: 60_000 });
}

/** Containers of ours (by label) on one testbed, running or not. */
async function containersOn(index: number): Promise<string[]> {
  const r = await docker('ps', '--all', '--filter', 'label=virtnet=1', '--filter', `label=virtnet.testbed=${index}`);
  return r.stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
}

/** docker's DNAT rules for a testbed address. */
async function dnatRulesFor(address: string): Promise<string[]> {
  const r = await runCommand(['iptables', '-t', 'nat', '-S', 'DOCKER'], { timeoutMs: 10_000 });
  return r.stdout.split('\n').filter((l) => l.includes(`${address}/32`) && l.includes('DNAT'));
}

/** Processes whose command line names a container id: runsc's sandbox, gofer and their shim. */
function processesNaming(containerId: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(containerId)) found.push(`${entry} ${cmdline.slice(0, 300)}`);
    } catch {
      // ended while we looked
    }
  }
  return found;
}

/** The processes of a cpuacct cgroup (none when it is gone). */
function cgroupProcesses(cgroup: string): number[] {
  const path = `/sys/fs/cgroup/cpuacct/${cgroup}/cgroup.procs`;
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

/** The runtime dockerd has registered under `name`, as `docker info` says. */
async function registered(name: string): Promise<{ path: string; runtimeArgs?: string[] }> {
  const r = await docker('info', '--format', '{{json .Runtimes}}');
  return (JSON.parse(r.stdout) as Record<string, { path: string; runtimeArgs?: string[] }>)[name]!;
}

const dockerd = await dockerEnvironment.available({});
const runsc = await runscMissing();
const gvisorUsable = await gvisor.available({});
const gvisorHostUsable = await gvisorHost.available({});
const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
  ['dockerd', dockerd.ok ? null : dockerd.reason],
  [
    'runsc',
    runsc ?? (gvisorUsable.ok ? null : gvisorUsable.reason) ?? (gvisorHostUsable.ok ? null : gvisorHostUsable.reason),
  ],
]);

describe.skipIf(missing !== null)(`gVisor (runsc) under docker, on a real testbed${skipNote(missing)}`, () => {
  const driverIndex = testIndex(20); // the drivers started directly, on a testbed this file brings up
  const runIndex = testIndex(21); // `virtnet run` brings its own testbed up and down
  const killIndex = testIndex(22); // a run killed with SIGKILL leaves its container for cleanup
  let testbed: Testbed;
  let runscVersion: string;
  beforeAll(async () => {
    await testbedDown(driverIndex);
    testbed = await testbedUp({ index: driverIndex, rateMbit: 100 });
    const v = await runCommand(['runsc', '--version'], { timeoutMs: 10_000 });
    runscVersion = /runsc version (\S+)/.exec(v.stdout)![1]!;
  });
  afterAll(async () => {
    // Also on failure: our containers (by name, on our indexes only), then our testbeds.
    for (const i of [driverIndex, runIndex, killIndex]) await docker('rm', '--force', containerName(i));
    for (const i of [driverIndex, runIndex, killIndex]) await testbedDown(i);
  });

  function context(index: number): EnvironmentContext {
    const l = testbedLayout(index);
    return {
      serverAddress: l.serverAddress,
      ports: { control: 12865, data: 12866 },
      logDir: join(work, `logs-${index}`),
      probe: netperfProbe(['ip', 'netns', 'exec', l.clientNamespace]),
      readyTimeoutMs: 60_000,
      settings: { testbedIndex: String(index) },
      log: () => {},
    };
  }

  async function netperf(test: 'TCP_STREAM' | 'UDP_STREAM', endpoint: Parameters<typeof netperfArgs>[1]) {
    const r = await runCommand(
      [
        ...testbed.clientPrefix,
        'netperf',
        ...netperfArgs({ test, messageSize: test === 'TCP_STREAM' ? 131072 : 1450 }, endpoint, {
          testLengthSeconds: 2,
          confidence: null,
        }),
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    return parseNetperfOutput(r.stdout);
  }

  const cases: [EnvironmentDriver, 'bridge' | 'host', string][] = [
    [gvisor, 'bridge', 'runsc'],
    [gvisorHost, 'host', 'runsc-host'],
  ];
  for (const [driver, network, runtime] of cases) {
    it(`${driver.name}: netserver in runsc, measured through the testbed, described, counted by its cgroup, gone after stop`, async () => {
      const address = testbed.layout.serverAddress;
      const started = await driver.start(context(driverIndex));
      let id = '';
      let cgroup = '';
      try {
        const d = started.description;
        expect(d.name).toBe(driver.name);
        expect(d.variant).toEqual({ base: 'docker', options: { network, runtime: 'runsc' } });
        // What the manifest records of gVisor: the runtime, runsc's version and platform, as
        // registered with dockerd and as seen on the running sandbox.
        const r = await registered(runtime);
        const platform = /--platform=(\w+)/.exec((r.runtimeArgs ?? []).join(' '))?.[1] ?? 'ptrace';
        expect(d.details.runtime).toBe(runtime);
        expect(d.details.runscVersion).toBe(runscVersion);
        expect(d.details.runscPath).toBe(r.path);
        expect(d.details.runscPlatform).toMatch(new RegExp(`^${platform}( |$)`));
        expect(d.details.runscPlatformSeen).toBe(platform);
        expect(d.details.runscNetwork).toMatch(network === 'host' ? /^host \(runsc --network=host/ : /^sandbox \(/);
        expect(d.summary).toContain(`gVisor runsc ${runscVersion} (${platform} platform`);
        expect(d.details.networkMode).toBe(network);
        expect(d.details.netserver).toBe('2.7.0');
        expect(d.startupSeconds).toBeGreaterThan(0);
        id = (await docker('container', 'inspect', '--format', '{{.Id}}', containerName(driverIndex))).stdout.trim();
        expect(d.details.container).toBe(`${containerName(driverIndex)} ${id.slice(0, 12)}`);
        expect(d.details.command).toContain(`--runtime ${runtime}`);

        // Its CPU time: the container's cgroup, which holds runsc's sandbox and gofer.
        const scope = started.cpuScope!();
        expect(scope.pids).toEqual([]);
        expect(scope.cgroups).toHaveLength(1);
        cgroup = scope.cgroups[0]!;
        expect(cgroup).toMatch(new RegExp(`(^|/)(docker/|docker-)${id}(\\.scope)?$`));
        const commands = cgroupProcesses(cgroup).map(commandOf);
        expect(commands).toContain('runsc-sandbox');
        expect(commands).toContain('runsc-gofer');
        const usage = () => Number(readFileSync(`/sys/fs/cgroup/cpuacct/${cgroup}/cpuacct.usage`, 'utf8'));
        const before = usage();

        // Real traffic through the shaped 100 Mbit/s link into gVisor: TCP goodput is at most
        // 94.15 Mbit/s, UDP's at most ~96; a ptrace sandbox on a busy 2-core machine gets less.
        const tcp = await netperf('TCP_STREAM', started.endpoint);
        expect(tcp.throughputMbps).toBeGreaterThan(20);
        expect(tcp.throughputMbps).toBeLessThan(96);
        const udp = await netperf('UDP_STREAM', started.endpoint);
        expect(udp.recvCalls).toBeGreaterThan(0);
        expect(udp.throughputMbps).toBeGreaterThan(10);
        expect(udp.throughputMbps).toBeLessThan(97);
        // The sandbox served those bytes: its cgroup's CPU time grew (by far more than a millisecond).
        expect(usage() - before).toBeGreaterThan(1e6);
      } finally {
        await started.stop();
      }
      await started.stop(); // idempotent
      expect(await containersOn(driverIndex)).toEqual([]);
      expect(cgroupProcesses(cgroup)).toEqual([]);
      expect(processesNaming(id)).toEqual([]);
      expect(await dnatRulesFor(address)).toEqual([]);
    });
  }

  it('`virtnet run --env gvisor,gvisor-host`: both measured, their manifest records runsc, nothing left running', async () => {
    const plan = join(work, 'tiny.json');
    writeFileSync(plan, JSON.stringify(TINY_PLAN));
    const out = join(work, 'run');
    const r = await runCommand(
      [
        process.execPath,
        CLI,
        'run',
        '--plan',
        plan,
        '--env',
        'gvisor,gvisor-host',
        '--out',
        out,
        '--index',
        String(runIndex),
        '--no-report',
      ],
      { timeoutMs: 300_000 },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = loadRun(out);
    expect(run.manifest.status).toBe('complete');
    for (const [env, runtime] of [
      ['gvisor', 'runsc'],
      ['gvisor-host', 'runsc-host'],
    ] as const) {
      const d = run.manifest.environmentDescriptions[env]!;
      expect(d.variant?.options.runtime, env).toBe('runsc');
      expect(d.details.runtime, env).toBe(runtime);
      expect(d.details.runscVersion, env).toBe(runscVersion);
      expect(d.details.runscPlatform, env).toMatch(/^(ptrace|kvm)/);
      expect(d.details.runscPlatformSeen, env).toBe(d.details.runscPlatform!.split(' ')[0]);
      const records = run.results.records.filter((x) => x.environment === env);
      expect(
        records.map((x) => `${x.pointId} ${x.status}`),
        env,
      ).toEqual(['TCP_STREAM:sendSocketSize=16100 ok', 'UDP_STREAM:requestSize=1450 ok']);
      for (const x of records) {
        expect(x.metrics!.throughputMbps, `${env} ${x.pointId}`).toBeGreaterThan(5);
        expect(x.metrics!.throughputMbps, `${env} ${x.pointId}`).toBeLessThan(97);
      }
    }
    expect(await containersOn(runIndex)).toEqual([]);
    expect((await testbedStatus(runIndex)).up).toBe(false);
  });

  it('a runsc container whose start failed: cleanup ends the sandbox, gofer and shim that `docker rm` leaves', async () => {
    const index = killIndex;
    const name = `${containerName(index)}-failed`;
    const images = await docker('images', '--filter', 'label=virtnet=1', '--format', '{{.Repository}}:{{.Tag}}');
    const image = images.stdout.split('\n')[0]!.trim();
    expect(image).toMatch(/^virtnet-netserver:/);
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    try {
      // A command that does not exist: runsc's start fails after its sandbox and gofer are up.
      const run = await docker(
        ...['run', '--detach', '--name', name, '--runtime', 'runsc', '--label', 'virtnet=1'],
        ...['--label', `virtnet.testbed=${index}`, '--label', `virtnet.owner=${gone.pid}:1`, image, '/nonexistent'],
      );
      expect(run.exitCode).not.toBe(0);
      const id = (await docker('container', 'inspect', '--format', '{{.Id}}', name)).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const removed = await gvisor.cleanup();
      expect(removed).toContainEqual(expect.stringMatching(new RegExp(`^container ${name} \\(`)));
      for (let i = 0; i < 50 && processesNaming(id).length > 0; i++) await sleep(100);
      expect(processesNaming(id)).toEqual([]);
      expect(cgroupProcesses(`docker/${id}`)).toEqual([]);
    } finally {
      await docker('rm', '--force', name);
    }
  });

  it('after a run killed with SIGKILL, the driver cleanup removes its container and gVisor sandbox', async () => {
    const index = killIndex;
    const out = join(work, 'killed');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--plan',
        'quick',
        '--env',
        'gvisor',
        '--out',
        out,
        '--index',
        String(index),
        '--no-report',
        '--quiet',
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let running = false;
    for (let i = 0; i < 300 && !running; i++) {
      const r = await docker(
        'ps',
        '--filter',
        `name=^${containerName(index)}$`,
        '--filter',
        'status=running',
        '--format',
        '{{.Names}}',
      );
      running = r.stdout.trim() === containerName(index);
      if (!running) await sleep(200);
    }
    child.kill('SIGKILL');
    await exited;
    expect(running, 'the run never started its container').toBe(true);
    const id = (await docker('container', 'inspect', '--format', '{{.Id}}', containerName(index))).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(processesNaming(id).length).toBeGreaterThan(0); // the sandbox outlives the killed run
    const removed = await gvisor.cleanup();
    expect(removed).toContainEqual(expect.stringMatching(new RegExp(`^container ${containerName(index)} \\(`)));
    expect(await containersOn(index)).toEqual([]);
    // Bounded: the shim and sandbox end within a few seconds of `docker rm`.
    for (let i = 0; i < 50 && processesNaming(id).length > 0; i++) await sleep(100);
    expect(processesNaming(id)).toEqual([]);
    expect(cgroupProcesses(`docker/${id}`)).toEqual([]);
    expect(await dnatRulesFor(testbedLayout(index).serverAddress)).toEqual([]);
  });
});
