// The podman-rootless environment for real: the project's unprivileged user's Podman, a container on
// slirp4netns reached through a namespace testbed, real netperf through it, and nothing left behind
// after a stop, nor after a run killed with SIGKILL and `cleanup`.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTicks } from '../../actions/lib/core/liveness.ts';
import { runCommand, sleep } from '../../actions/lib/core/proc.ts';
import type { EnvironmentContext } from '../../actions/lib/measure/environment.ts';
import { netperfArgs, parseNetperfOutput } from '../../actions/lib/measure/netperf.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import { requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { findEnvironment } from '../registry.ts';
import { type Testbed, testbedDown, testbedLayout, testbedUp } from '../testbed/testbed.ts';
import { createPodmanEnvironment, hybridCgroups, podmanRootlessEnvironment } from './podman.ts';
import {
  asUser,
  containerName,
  containerProcesses,
  parsePodmanVersion,
  parsePs,
  PASTA_SINCE,
  atLeast,
  PODMAN_USER,
  ociRuntime,
} from './spec.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-podman-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function podman(...args: string[]) {
  return runCommand(asUser(PODMAN_USER, args), { timeoutMs: 60_000, cwd: '/', env: { PATH: process.env.PATH } });
}

/** The user's containers of ours (by label) on one testbed, running or not. */
async function containersOn(index: number): Promise<string[]> {
  const r = await podman(
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

/**
 * The user's live processes that serve containers: slirp4netns, conmon, netserver. (Podman's pause
 * process, which holds the user's namespaces between commands, is not one; and processes that have
 * ended but wait for a parent to reap them hold nothing.)
 */
async function userContainerProcesses(): Promise<string[]> {
  const ps = await runCommand(['ps', '-eo', 'pid=,user:32=,stat=,args='], { timeoutMs: 10_000 });
  return containerProcesses(parsePs(ps.stdout), PODMAN_USER).map((p) => `${p.pid} ${p.args}`);
}

const version = await runCommand(['podman', '--version'], { timeoutMs: 10_000 })
  .then((r) => parsePodmanVersion(r.stdout))
  .catch(() => null);
const availability = await podmanRootlessEnvironment.available({});
const skipReason = requireServices([
  ['root', rootMissing()],
  ['podman', availability.ok ? null : availability.reason],
]);

describe.skipIf(version === null || rootMissing() !== null)(
  'podman-rootless availability says why it cannot run',
  () => {
    it('names a user that does not exist and the script that creates it; cleanup finds nothing of it', async () => {
      const env = createPodmanEnvironment({ user: 'virtnet-no-such-user' });
      expect(await env.available({})).toEqual({
        ok: false,
        reason: 'no user virtnet-no-such-user: run scripts/prepare-podman-user.sh as root',
      });
      expect(await env.cleanup()).toEqual([]);
    });

    it('scripts/prepare-podman-user.sh makes a user ready for rootless Podman, and a second run changes nothing', async () => {
      const user = 'virtnet-podman-test';
      const script = new URL('../../scripts/prepare-podman-user.sh', import.meta.url).pathname;
      const ranges = (file: string) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => l.split(':'));
      await runCommand(['userdel', '--remove', user], { timeoutMs: 30_000 });
      try {
        const first = await runCommand(['bash', script, user], { timeoutMs: 60_000 });
        expect(first.exitCode, first.stderr).toBe(0);
        expect(first.stdout).toContain(`podman user: created ${user}`);
        expect(first.stdout).toMatch(new RegExp(`podman user: ${user} ready \\(uid \\d+, \\d+\\+65536 subuids\\)`));
        for (const file of ['/etc/subuid', '/etc/subgid']) {
          const all = ranges(file);
          const mine = all.filter(([u]) => u === user);
          expect(mine, file).toHaveLength(1);
          const [start, count] = [Number(mine[0]![1]), Number(mine[0]![2])];
          // Its range overlaps no other user's.
          for (const [u, s, c] of all)
            if (u !== user)
              expect(start + count <= Number(s) || Number(s) + Number(c) <= start, `${file} ${u}`).toBe(true);
        }
        const conf = readFileSync(`/var/lib/${user}/.config/containers/containers.conf`, 'utf8');
        expect(conf).toMatch(/cgroup_manager = "cgroupfs"/);
        const again = await runCommand(['bash', script, user], { timeoutMs: 60_000 });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(again.stdout.trim().split('\n')).toEqual([
          expect.stringMatching(new RegExp(`^podman user: ${user} ready `)),
        ]);
      } finally {
        await runCommand(['userdel', '--remove', user], { timeoutMs: 30_000 });
      }
      for (const file of ['/etc/subuid', '/etc/subgid'])
        expect(
          ranges(file).some(([u]) => u === user),
          file,
        ).toBe(false);
    });

    it('the pasta variant runs only on a Podman that has --network pasta, and says so', async () => {
      const pasta = await findEnvironment('podman-rootless-pasta').available({});
      if (atLeast(version!, PASTA_SINCE)) expect(pasta.ok || pasta.reason).not.toMatch(/has no --network pasta/);
      else
        expect(pasta).toEqual({
          ok: false,
          reason: `Podman ${version!.join('.')} has no --network pasta (Podman's pasta support came with 4.4.0)`,
        });
    });
  },
);

describe.skipIf(skipReason !== null)(`podman-rootless on a real testbed${skipNote(skipReason)}`, () => {
  const driverIndex = testIndex(13); // the driver started directly, on a testbed this file brings up
  const killIndex = testIndex(14); // a `virtnet run` killed with SIGKILL leaves its container for cleanup
  let testbed: Testbed;
  beforeAll(async () => {
    await testbedDown(driverIndex);
    testbed = await testbedUp({ index: driverIndex, rateMbit: 100 });
  });
  afterAll(async () => {
    // Also on failure: our containers (by name, on our indexes only), then our testbeds.
    for (const i of [driverIndex, killIndex]) await podman('rm', '--force', '--time', '0', containerName(i));
    for (const i of [driverIndex, killIndex]) await testbedDown(i);
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

  it('serves netperf through slirp4netns on the testbed, describes itself, and stops without a trace', async () => {
    const index = driverIndex;
    const env = findEnvironment('podman-rootless');
    const started = await env.start(context(index));
    try {
      const d = started.description;
      expect(d.name).toBe('podman-rootless');
      expect(d.variant).toEqual({ base: 'podman', options: { network: 'slirp4netns' } });
      expect(d.accelerator).toBe('none');
      expect(d.startupSeconds).toBeGreaterThan(0);
      expect(d.details.podman).toBe(version!.join('.'));
      expect(d.details.rootless).toBe('true');
      expect(d.details.user).toBe(PODMAN_USER);
      expect(d.details.network).toBe('slirp4netns:port_handler=slirp4netns');
      expect(d.details.slirp4netns).toMatch(/^\d+\.\d+\.\d+/);
      expect(d.details.netserver).toBe('2.7.0');
      expect(d.details.imageId).toMatch(/^[0-9a-f]{64}$/);
      expect(d.summary).toMatch(/^Podman \d+\.\d+\.\d+ rootless as virtnet-podman, slirp4netns \d/);
      expect(await containersOn(index)).toEqual([containerName(index)]);

      // Its CPU scope: live processes of the user, among them the slirp4netns of this container.
      const scope = started.cpuScope!();
      expect(scope.pids.length).toBeGreaterThanOrEqual(2);
      const owners = await runCommand(['ps', '-o', 'user:32=,comm=', '-p', scope.pids.join(',')], {
        timeoutMs: 10_000,
      });
      const lines = owners.stdout.trim().split('\n');
      expect(lines).toHaveLength(scope.pids.length);
      for (const l of lines) expect(l.trim().split(/\s+/)[0]).toBe(PODMAN_USER);
      expect(lines.some((l) => /\sslirp4netns$/.test(l.trim()))).toBe(true);
      expect(started.pathPids!()).toEqual(scope.pids);

      const measure = (test: 'TCP_STREAM' | 'UDP_STREAM', messageSize: number) =>
        runCommand(
          [
            ...testbed.clientPrefix,
            'netperf',
            ...netperfArgs({ test, messageSize }, started.endpoint, { testLengthSeconds: 2, confidence: null }),
          ],
          { timeoutMs: 30_000 },
        );
      const tcp = await measure('TCP_STREAM', 131072);
      expect(tcp.exitCode, tcp.stderr).toBe(0);
      const t = parseNetperfOutput(tcp.stdout);
      // Through slirp4netns's user-mode stack, but never above the shaped link's 94.15 Mbit/s goodput.
      expect(t.throughputMbps).toBeGreaterThan(20);
      expect(t.throughputMbps).toBeLessThan(96);
      const udp = await measure('UDP_STREAM', 1450);
      expect(udp.exitCode, udp.stderr).toBe(0);
      const u = parseNetperfOutput(udp.stdout);
      // slirp4netns relays datagrams through a host socket: most must arrive, and never more than sent.
      expect(u.recvCalls / u.sendCalls).toBeGreaterThan(0.5);
      expect(u.recvCalls).toBeLessThanOrEqual(u.sendCalls);
      // What arrives fits the 100 Mbit/s link (the tbf burst lets a 2 s test read a little above 95.6).
      expect(u.throughputMbps).toBeLessThan(100);
    } finally {
      await started.stop();
    }
    await started.stop(); // idempotent
    expect(await containersOn(index)).toEqual([]);
    expect(await userContainerProcesses()).toEqual([]);
  });

  it("with rootless Podman's default port handler, rootlessport carries the stream and is in the CPU scope", async () => {
    const env = findEnvironment('podman-rootless-rootlesskit');
    const started = await env.start(context(driverIndex));
    try {
      const d = started.description;
      expect(d.details.network).toBe('slirp4netns:port_handler=rootlesskit');
      expect(d.summary).toMatch(/ network \(ports by rootlessport\), /);
      const scope = started.cpuScope!();
      // By the program each runs (rootlessport's child is its re-executed binary, whose comm is "exe").
      const args = await runCommand(['ps', '-o', 'args=', '-p', scope.pids.join(',')], { timeoutMs: 10_000 });
      const programs = args.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0]!.split('/').pop());
      expect(programs.sort()).toEqual(['conmon', 'netserver', 'rootlessport', 'rootlessport-child', 'slirp4netns']);
      for (const [test, size] of [
        ['TCP_STREAM', 131072],
        ['UDP_STREAM', 1450],
      ] as const) {
        const r = await runCommand(
          [
            ...testbed.clientPrefix,
            'netperf',
            ...netperfArgs({ test, messageSize: size }, started.endpoint, { testLengthSeconds: 2, confidence: null }),
          ],
          { timeoutMs: 30_000 },
        );
        expect(r.exitCode, r.stderr).toBe(0);
        const m = parseNetperfOutput(r.stdout);
        expect(m.throughputMbps, test).toBeGreaterThan(20);
        expect(m.throughputMbps, test).toBeLessThan(100);
      }
    } finally {
      await started.stop();
    }
    expect(await containersOn(driverIndex)).toEqual([]);
    expect(await userContainerProcesses()).toEqual([]);
  });

  it("from no image: the first start imports it into the user's storage without a registry, the next finds it", async () => {
    const ours = await podman('images', '--quiet', '--filter', 'label=virtnet=1');
    const ids = [...new Set(ours.stdout.split('\n').filter((l) => l.trim() !== ''))];
    if (ids.length > 0) expect((await podman('rmi', '--force', ...ids)).exitCode).toBe(0);
    const env = findEnvironment('podman-rootless');
    const first = await env.start(context(driverIndex));
    let second: Awaited<ReturnType<typeof env.start>> | null = null;
    try {
      expect(first.description.details.imageBuildSeconds).toMatch(/^\d+\.\d$/);
      expect(first.description.details.imageBuild).toBe('offline-scratch (podman import)');
      await first.stop();
      second = await env.start(context(driverIndex));
      expect(second.description.details.imageBuildSeconds).toBe('cached');
      expect(second.description.details.imageId).toBe(first.description.details.imageId);
    } finally {
      await first.stop();
      await second?.stop();
    }
    expect(await containersOn(driverIndex)).toEqual([]);
  });

  it("a full cleanup ends the user's slirp4netns that serves no container, and keeps a live run's", async () => {
    const image = (await podman('images', '--filter', 'label=virtnet=1', '--format', '{{.Repository}}:{{.Tag}}')).stdout
      .split('\n')
      .find((l) => l.includes('virtnet-netserver'));
    expect(image, 'no image of ours: the tests above import it').toBeDefined();
    const live = `${containerName(driverIndex)}-live-owner`;
    const started: number[] = [];
    const childOf = async (pid: number) => {
      for (let i = 0; i < 50; i++) {
        const r = await runCommand(['ps', '-o', 'pid=', '--ppid', String(pid)], { timeoutMs: 10_000 });
        const found = Number(r.stdout.trim().split('\n')[0]);
        if (found > 0) return found;
        await sleep(100);
      }
      throw new Error(`no child of ${pid}`);
    };
    try {
      // A live run's container (its owner is PID 1, alive): its slirp4netns serves it.
      const run = await podman(
        ...['run', '--detach', '--name', live, '--label', 'virtnet=1', '--label', `virtnet.testbed=${driverIndex}`],
        ...['--label', `virtnet.owner=1:${processStartTicks(1)}`, '--runtime', ociRuntime(hybridCgroups())],
        ...['--network', 'slirp4netns', image!, 'netserver', '-D', '-f', '-4'],
      );
      expect(run.exitCode, run.stderr).toBe(0);
      // What a `podman run` killed half-way leaves: the user's slirp4netns for a namespace no
      // container has (here a user and network namespace held by a sleep).
      const holder = spawn(
        'runuser',
        ['-u', PODMAN_USER, '--', 'unshare', '--user', '--map-root-user', '--net', 'sleep', '60'],
        {
          stdio: 'ignore',
        },
      );
      started.push(holder.pid!);
      const sleeper = await childOf(holder.pid!);
      started.push(sleeper);
      const relay = spawn('runuser', ['-u', PODMAN_USER, '--', 'slirp4netns', '--configure', String(sleeper), 'tap0'], {
        stdio: 'ignore',
      });
      started.push(relay.pid!);
      const orphan = await childOf(relay.pid!);
      started.push(orphan);
      const slirps = async () => (await userContainerProcesses()).filter((p) => /slirp4netns/.test(p));
      expect(await slirps()).toHaveLength(2);

      const removed = await podmanRootlessEnvironment.cleanup();
      expect(removed).toContain(`${PODMAN_USER}'s slirp4netns PID ${orphan} (its container is gone)`);
      expect(removed).toContain(`(kept ${PODMAN_USER}'s container ${live}: its run, PID 1, is still going)`);
      const left = await slirps();
      expect(left).toHaveLength(1);
      expect(left[0]).not.toMatch(new RegExp(`^${orphan} `));
    } finally {
      for (const pid of started.reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await podman('rm', '--force', '--time', '0', live);
    }
    // conmon ends a moment after `podman rm` returns.
    for (let i = 0; i < 100 && (await userContainerProcesses()).length > 0; i++) await sleep(100);
    expect(await userContainerProcesses()).toEqual([]);
  });

  it('after a run killed with SIGKILL, cleanup of its testbed removes its container and slirp4netns', async () => {
    const index = killIndex;
    const out = join(work, 'killed');
    const cli = new URL('../../scripts/virtnet.ts', import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      [cli, 'run', '--plan', 'quick', '--env', 'podman-rootless', '--out', out, '--index', String(index)],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let running = false;
    for (let i = 0; i < 300 && !running; i++) {
      const r = await podman('ps', '--filter', `name=^${containerName(index)}$`, '--format', '{{.Names}}');
      running = r.stdout.trim() === containerName(index);
      if (!running) await sleep(200);
    }
    child.kill('SIGKILL');
    await exited;
    expect(running, 'the run never started its container').toBe(true);
    expect(await containersOn(index)).toEqual([containerName(index)]);
    expect((await userContainerProcesses()).some((p) => /slirp4netns/.test(p))).toBe(true);

    const removed = await podmanRootlessEnvironment.cleanup(index);
    expect(removed).toEqual([
      expect.stringMatching(new RegExp(`^${PODMAN_USER}'s container ${containerName(index)} \\(`)),
    ]);
    expect(await containersOn(index)).toEqual([]);
    expect(await userContainerProcesses()).toEqual([]);
    expect(await podmanRootlessEnvironment.cleanup(index)).toEqual([]);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain('podman-rootless');
  });
});
