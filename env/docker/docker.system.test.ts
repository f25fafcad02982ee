// The docker environment against a real dockerd, a real container and a real namespace testbed.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netperfArgs, parseNetperfOutput } from '../../actions/lib/measure/netperf.ts';
import { processStartTicks } from '../../actions/lib/core/liveness.ts';
import { runCommand, sleep } from '../../actions/lib/core/proc.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import type { EnvironmentContext } from '../../actions/lib/measure/environment.ts';
import { EnvironmentError } from '../../actions/lib/measure/environment.ts';
import { requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { type Testbed, testbedDown, testbedLayout, testbedStatus, testbedUp } from '../testbed/testbed.ts';
import { createDockerEnvironment, dockerEnvironment } from './docker.ts';
import { containerName } from './spec.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-docker-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function docker(...args: string[]) {
  return runCommand(['docker', ...args], { timeoutMs: 60_000 });
}

/** Containers of ours (by label) on one testbed, running or not. */
async function containersOn(index: number): Promise<string[]> {
  const r = await docker(
    'ps',
    '--all',
    '--filter',
    'label=virtnet=1',
    '--filter',
    `label=virtnet.testbed=${index}`,
    '--format',
    '{{.Names}}',
  );
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** docker's DNAT rules for a testbed address (published ports without the userland proxy). */
async function dnatRulesFor(address: string): Promise<string[]> {
  const r = await runCommand(['iptables', '-t', 'nat', '-S', 'DOCKER'], { timeoutMs: 10_000 });
  return r.stdout.split('\n').filter((l) => l.includes(`${address}/32`) && l.includes('DNAT'));
}

describe('docker availability says why docker cannot be used', () => {
  let server: Server | null = null;
  afterAll(() => server?.close());

  it('names a missing docker CLI', async () => {
    const env = createDockerEnvironment({ env: { PATH: '/nonexistent' } });
    const a = await env.available({});
    expect(a).toEqual({ ok: false, reason: expect.stringMatching(/^no docker CLI: docker: command not found/) });
    expect(await env.cleanup()).toEqual([]);
  });

  it('names a daemon socket nobody listens on', async () => {
    const socket = join(work, 'absent.sock');
    const env = createDockerEnvironment({ env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });
    const a = await env.available({});
    expect(a.ok).toBe(false);
    if (!a.ok) {
      expect(a.reason).toContain(`no docker daemon answers at unix://${socket}`);
      expect(a.reason).toContain('scripts/start-dockerd.sh');
    }
    expect(await env.cleanup()).toEqual([]);
  });

  it('names a socket that closes every connection without answering', async () => {
    const socket = join(work, 'closing.sock');
    server = createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server!.listen(socket, resolve));
    const env = createDockerEnvironment({ env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });
    const a = await env.available({});
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(new RegExp(`^no docker daemon answers at unix://${socket}: .+`));
  });
});

describe('scripts/start-dockerd.sh', () => {
  const script = new URL('../../scripts/start-dockerd.sh', import.meta.url).pathname;

  it('does nothing when told not to', async () => {
    const r = await runCommand(['bash', script], {
      timeoutMs: 10_000,
      env: { ...process.env, VIRTNET_START_DOCKERD: '0' },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('not started (VIRTNET_START_DOCKERD=0)');
  });

  it('refuses to start a local daemon for a DOCKER_HOST that does not answer, and says so', async () => {
    const socket = join(work, 'elsewhere.sock');
    const r = await runCommand(['bash', script], {
      timeoutMs: 20_000,
      env: { ...process.env, DOCKER_HOST: `unix://${socket}` },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`nothing answers at DOCKER_HOST=unix://${socket}`);
  });
});

const availability = await dockerEnvironment.available({});
const skipReason = requireServices([
  ['root', rootMissing()],
  ['dockerd', availability.ok ? null : availability.reason],
]);

describe.skipIf(skipReason !== null)(`docker environment on a real dockerd${skipNote(skipReason)}`, () => {
  const driverIndex = testIndex(0); // the driver started directly, on a testbed this file brings up
  const runIndex = testIndex(1); // `virtnet run` brings its own testbed up and down
  const killIndex = testIndex(2); // runs stopped by signals leave theirs (SIGKILL) for us to remove
  let testbed: Testbed;
  beforeAll(async () => {
    await testbedDown(driverIndex);
    testbed = await testbedUp({ index: driverIndex, rateMbit: 100 });
  });
  afterAll(async () => {
    // Also on failure: our containers (by name, on our indexes only), then our testbeds.
    for (const i of [driverIndex, runIndex, killIndex]) await docker('rm', '--force', containerName(i));
    for (const i of [driverIndex, runIndex, killIndex]) await testbedDown(i);
  });

  function context(index: number, overrides: Partial<EnvironmentContext> = {}): EnvironmentContext {
    const l = testbedLayout(index);
    return {
      serverAddress: l.serverAddress,
      ports: { control: 12865, data: 12866 },
      logDir: join(work, `logs-${index}`),
      probe: netperfProbe(['ip', 'netns', 'exec', l.clientNamespace]),
      readyTimeoutMs: 30_000,
      settings: { testbedIndex: String(index) },
      log: () => {},
      ...overrides,
    };
  }

  it('start-dockerd.sh leaves the running daemon alone and reports its userland proxy off', async () => {
    const r = await runCommand(['bash', new URL('../../scripts/start-dockerd.sh', import.meta.url).pathname], {
      timeoutMs: 60_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dockerd: running \(server .+, userland proxy off\)$/m);
  });

  it('starts netserver in a container reachable through kernel DNAT at the link rate, and stops without a trace', async () => {
    const index = driverIndex;
    const address = testbed.layout.serverAddress;
    const started = await dockerEnvironment.start(context(index));
    try {
      const d = started.description;
      expect(d.name).toBe('docker');
      expect(d.accelerator).toBe('none');
      expect(d.startupSeconds).toBeGreaterThan(0);
      expect(d.details.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(['offline-scratch', 'registry-dockerfile']).toContain(d.details.imageBuild);
      expect(d.details.networkMode).toBe('bridge');
      expect(d.details.userlandProxy).toMatch(/^disabled/);
      expect(d.details.dockerProxyProcesses).toBe('0');
      expect(d.details.netserver).toBe('2.7.0');
      expect(d.details.dockerServer).toMatch(/^\d+\.\d+/);
      expect(d.details.dockerClient).toMatch(/^\d+\.\d+/);
      expect(await containersOn(index)).toEqual([containerName(index)]);
      const rules = await dnatRulesFor(address);
      expect(rules.some((r) => /-p tcp .*--dport 12865 /.test(r))).toBe(true);
      expect(rules.some((r) => /-p tcp .*--dport 12866 /.test(r))).toBe(true);
      expect(rules.some((r) => /-p udp .*--dport 12866 /.test(r))).toBe(true);

      const tcp = await runCommand(
        [
          ...testbed.clientPrefix,
          'netperf',
          ...netperfArgs({ test: 'TCP_STREAM', messageSize: 131072 }, started.endpoint, {
            testLengthSeconds: 2,
            confidence: null,
          }),
        ],
        { timeoutMs: 30_000 },
      );
      expect(tcp.exitCode, tcp.stderr).toBe(0);
      // Default (autotuned) socket buffers, so no window limit: 100BASE-TX TCP goodput is 94.15 Mbit/s.
      expect(parseNetperfOutput(tcp.stdout).throughputMbps).toBeGreaterThan(85);
      expect(parseNetperfOutput(tcp.stdout).throughputMbps).toBeLessThan(96);
      const udp = await runCommand(
        [
          ...testbed.clientPrefix,
          'netperf',
          ...netperfArgs({ test: 'UDP_STREAM', messageSize: 1450 }, started.endpoint, {
            testLengthSeconds: 2,
            confidence: null,
          }),
        ],
        { timeoutMs: 30_000 },
      );
      expect(udp.exitCode, udp.stderr).toBe(0);
      const u = parseNetperfOutput(udp.stdout);
      // Through docker-proxy most datagrams would be lost; through DNAT nearly all arrive.
      expect(u.recvCalls / u.sendCalls).toBeGreaterThan(0.85);
      expect(u.throughputMbps).toBeGreaterThan(85);

      // Same inputs: the image is reused, not rebuilt.
      await started.stop();
      const again = await dockerEnvironment.start(context(index));
      expect(again.description.details.imageBuildSeconds).toBe('cached');
      expect(again.description.details.imageId).toBe(d.details.imageId);
      await again.stop();
    } finally {
      await started.stop();
    }
    await started.stop(); // idempotent
    expect(await containersOn(index)).toEqual([]);
    expect(await dnatRulesFor(address)).toEqual([]);
  });

  it('from no image: the first start of a process builds it and says how long, the next reads cached', async () => {
    // What a new machine sees: none of the project's images exists when the process starts.
    const ours = await docker('images', '--quiet', '--filter', 'label=virtnet=1');
    const ids = [...new Set(ours.stdout.split('\n').filter((l) => l.trim() !== ''))];
    if (ids.length > 0) expect((await docker('rmi', '--force', ...ids)).exitCode).toBe(0);
    const fresh = createDockerEnvironment();
    const first = await fresh.start(context(driverIndex));
    let second: Awaited<ReturnType<typeof fresh.start>> | null = null;
    try {
      expect(first.description.details.imageBuildSeconds).toMatch(/^\d+\.\d$/);
      await first.stop();
      second = await fresh.start(context(driverIndex));
      expect(second.description.details.imageBuildSeconds).toBe('cached');
      expect(second.description.details.imageId).toBe(first.description.details.imageId);
    } finally {
      await first.stop();
      await second?.stop();
    }
    expect(await containersOn(driverIndex)).toEqual([]);
  });

  it('keeps the container log and removes the container when netserver never answers', async () => {
    const index = driverIndex;
    const ctx = context(index, { probe: async () => false, readyTimeoutMs: 1500 });
    const error = await dockerEnvironment.start(ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnvironmentError);
    const e = error as EnvironmentError;
    expect(e.message).toMatch(/^docker: netserver in container vnet\d+-docker: not ready after 2 s/);
    expect(e.logFile).toBe(join(ctx.logDir, 'docker-netserver.log'));
    expect(readFileSync(e.logFile!, 'utf8')).toMatch(/# docker logs vnet\d+-docker[\s\S]*"Running":true/);
    expect(await containersOn(index)).toEqual([]);
  });

  it('cleanup removes containers of this process and of dead runs, and keeps those of live runs', async () => {
    const index = driverIndex;
    const image = await dockerEnvironment.start(context(index)).then(async (s) => {
      // Started by this process: cleanup may take it (a run cleaning up after itself).
      return s.description.details.image!;
    });
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    const dead = `${containerName(index)}-dead-owner`;
    const live = `${containerName(index)}-live-owner`;
    const liveOwner = `1:${processStartTicks(1)}`;
    try {
      expect(
        (
          await docker(
            'create',
            '--name',
            dead,
            '--label',
            'virtnet=1',
            '--label',
            `virtnet.testbed=${index}`,
            '--label',
            `virtnet.owner=${gone.pid}:1`,
            image,
          )
        ).exitCode,
      ).toBe(0);
      expect(
        (
          await docker(
            'create',
            '--name',
            live,
            '--label',
            'virtnet=1',
            '--label',
            `virtnet.testbed=${index}`,
            '--label',
            `virtnet.owner=${liveOwner}`,
            image,
          )
        ).exitCode,
      ).toBe(0);
      expect((await containersOn(index)).sort()).toEqual([containerName(index), dead, live].sort());
      const removed = await dockerEnvironment.cleanup();
      expect(removed).toContainEqual(expect.stringMatching(new RegExp(`^container ${containerName(index)} \\(`)));
      expect(removed).toContainEqual(expect.stringMatching(new RegExp(`^container ${dead} \\(`)));
      expect(removed).toContainEqual(`(kept container ${live}: its run, PID 1, is still going)`);
      expect(await containersOn(index)).toEqual([live]);
    } finally {
      await docker('rm', '--force', dead, live, containerName(index));
    }
    expect(await containersOn(index)).toEqual([]);
  });

  it('measures the quick plan through `virtnet run --env docker`: TCP near the plateau, UDP nearly lossless', async () => {
    const index = runIndex;
    const out = join(work, 'quick');
    const cli = new URL('../../scripts/virtnet.ts', import.meta.url).pathname;
    const r = await runCommand(
      [
        process.execPath,
        cli,
        'run',
        '--plan',
        'quick',
        '--env',
        'docker',
        '--out',
        out,
        '--index',
        String(index),
        '--no-report',
      ],
      { timeoutMs: 240_000 },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = loadRun(out);
    expect(run.manifest.status).toBe('complete');
    const d = run.manifest.environmentDescriptions.docker!;
    expect(d.startupSeconds).toBeGreaterThan(0);
    expect(d.details.imageId).toMatch(/^sha256:/);
    expect(d.details.userlandProxy).toMatch(/^disabled/);
    const records = run.results.records;
    expect(records).toHaveLength(8);
    expect(records.every((x) => x.status === 'ok' && x.environment === 'docker')).toBe(true);
    // 1 s tests on a shared 2-core machine wobble: every point must be far above what docker-proxy
    // gives (TCP -s 4096: ~21 Mbit/s), and none above the 94.15 Mbit/s plateau of the shaped link.
    const tcp = records
      .filter((x) => x.test === 'TCP_STREAM')
      .map((x) => x.metrics!.throughputMbps)
      .sort((a, b) => a - b);
    expect(tcp).toHaveLength(4);
    for (const t of tcp) expect(t).toBeGreaterThan(60);
    expect(tcp[tcp.length - 1]).toBeLessThan(96);
    // Small socket buffers are window-limited, so CPU contention (added latency) lowers them:
    // the median must still be near the plateau and the best point on it.
    expect((tcp[1]! + tcp[2]!) / 2).toBeGreaterThan(75);
    expect(tcp[tcp.length - 1]).toBeGreaterThan(85);
    for (const x of records.filter((x) => x.test === 'UDP_STREAM')) {
      // The okay rate: datagrams received / sent (docker-proxy loses most of them).
      const okay = x.metrics!.recvCalls / x.metrics!.sendCalls;
      expect(okay, x.pointId).toBeGreaterThan(x.value >= 550 ? 0.85 : 0.5);
      if (x.value >= 1050) expect(x.metrics!.throughputMbps, x.pointId).toBeGreaterThan(80);
    }
    expect(await containersOn(index)).toEqual([]);
    expect((await testbedStatus(index)).up).toBe(false);
  });

  /** Starts `virtnet run --env docker` in the background and waits (bounded) until its container runs. */
  async function runUntilContainerRuns(index: number, out: string) {
    const cli = new URL('../../scripts/virtnet.ts', import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      [
        cli,
        'run',
        '--plan',
        'quick',
        '--env',
        'docker',
        '--out',
        out,
        '--index',
        String(index),
        '--no-report',
        '--quiet',
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
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
    return { child, exited, running };
  }

  it('a run stopped with SIGTERM removes its container itself', async () => {
    const index = killIndex;
    const { child, exited, running } = await runUntilContainerRuns(index, join(work, 'terminated'));
    child.kill('SIGTERM');
    const code = await exited;
    expect(running, 'the run never started its container').toBe(true);
    expect(code).toBe(143);
    expect(await containersOn(index)).toEqual([]);
    expect(loadRun(join(work, 'terminated')).manifest.status).toBe('interrupted');
  });

  it('after a run killed with SIGKILL, cleanup removes its container', async () => {
    const index = killIndex;
    const { child, exited, running } = await runUntilContainerRuns(index, join(work, 'killed'));
    child.kill('SIGKILL');
    await exited;
    expect(running, 'the run never started its container').toBe(true);
    expect(await containersOn(index)).toEqual([containerName(index)]);
    const removed = await dockerEnvironment.cleanup();
    expect(removed).toContainEqual(expect.stringMatching(new RegExp(`^container ${containerName(index)} \\(`)));
    expect(await containersOn(index)).toEqual([]);
    expect(await dnatRulesFor(testbedLayout(index).serverAddress)).toEqual([]);
    expect(existsSync(join(work, 'killed', 'manifest.json'))).toBe(true);
  });
});
