// start-environment's main and post step as functions: inputs through a recorder, the serve
// process through a fake launcher (the real one runs in actions/chained.system.test.ts).

import { describe, expect, it } from 'vitest';
import type { EndpointFile } from '../../lib/measure/serve-protocol.ts';
import type { ServeSettings, SpawnedServe, StopOutcome } from './serve-process.ts';
import { recordingIO } from '../../lib/testing/action-io.ts';
import { run, type ServeLauncher, STATE_ENDPOINT_FILE, STATE_PID, STATE_START_TICKS } from './main.ts';
import { runPost } from './post.ts';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { askCoordinator } from '../../lib/measure/coordinator.ts';
import { loadPlan, overridePlan } from '../../lib/plan/plan-file.ts';
import { RELEASE_MARGIN, releaseWaitMinutes } from '../../lib/measure/waits.ts';

/** A port nobody listens on right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The workspace is this checkout: the action reads which environments exist from its variants files. */
const REPO = join(import.meta.dirname, '..', '..', '..');
const env = { GITHUB_WORKSPACE: REPO, RUNNER_TEMP: '/rt' };
const inputs = { environment: 'native', 'server-address': '198.18.0.1' };

const endpoint: EndpointFile = {
  pid: 4242,
  environment: 'native',
  endpoint: { address: '198.18.0.1', controlPort: 12865, dataPort: 12866 },
  coordinatorPort: 12867,
  description: {
    name: 'native',
    summary: 'netserver 2.7.0 on the host',
    details: {},
    accelerator: 'none',
    startupSeconds: 0.1,
  },
  startedAt: '2026-01-01T00:00:00.000Z',
  holdUntil: '2026-01-01T06:00:00.000Z',
};

function launcher(
  behaviour: {
    endpoint?: EndpointFile | Error;
    released?: boolean;
    prepare?: (command: string) => Promise<string | null>;
  } = {},
) {
  const calls: string[] = [];
  let spawnedWith: ServeSettings | null = null;
  const serve: ServeLauncher = {
    spawn: (settings) => {
      calls.push('spawn');
      spawnedWith = settings;
      return { pid: 4242, startTicks: '777', exited: () => null } satisfies SpawnedServe;
    },
    waitForEndpoint: async () => {
      calls.push('wait-endpoint');
      const e = behaviour.endpoint ?? endpoint;
      if (e instanceof Error) throw e;
      return e;
    },
    waitForRelease: async (file, served, timeoutMs) => {
      calls.push(`wait-release ${file} ${served.pid} ${timeoutMs}`);
      return behaviour.released ?? true;
    },
    prepare: async (command) => {
      calls.push(`prepare ${command}`);
      return behaviour.prepare ? behaviour.prepare(command) : null;
    },
  };
  return { serve, calls, spawned: () => spawnedWith };
}

describe('start-environment main', () => {
  it('starts serve with the parsed settings, saves its PID and start time first, and sets the outputs', async () => {
    const io = recordingIO(inputs, { env });
    const fake = launcher();
    // The state must be saved before the wait: a wait that fails still leaves the post step a PID.
    fake.serve.waitForEndpoint = async () => {
      expect(io.state).toEqual({
        [STATE_PID]: '4242',
        [STATE_START_TICKS]: '777',
        [STATE_ENDPOINT_FILE]: '/rt/virtnet-endpoint-native.json',
      });
      return endpoint;
    };
    await run(io, fake.serve);
    expect(io.failed).toBeNull();
    expect(fake.spawned()).toMatchObject({
      environment: 'native',
      serverAddress: '198.18.0.1',
      readyTimeoutSeconds: 300,
      virtnetDir: REPO,
      logFile: '/rt/virtnet-serve-native.log',
    });
    expect(io.outputs).toEqual({
      address: '198.18.0.1',
      'control-port': '12865',
      'data-port': '12866',
      'coordinator-port': '12867',
      endpoint: JSON.stringify(endpoint.endpoint),
      description: 'netserver 2.7.0 on the host',
    });
    expect(fake.calls).toEqual(['spawn']);
  });

  it('refuses bad inputs before starting anything', async () => {
    const io = recordingIO({ ...inputs, 'control-port': '70000' }, { env });
    const fake = launcher();
    await run(io, fake.serve);
    expect(io.failed).toBe('input control-port: 70000 is out of range: expected 1 to 65535');
    expect(fake.calls).toEqual([]);
    expect(io.state).toEqual({});
  });

  it('fails with the serve log when the environment never answers, keeping the state for the post step', async () => {
    const io = recordingIO(inputs, { env });
    await run(
      io,
      launcher({ endpoint: new Error('virtnet serve exited (code 1) before native was ready:\nno netserver') }).serve,
    );
    expect(io.failed).toMatch(/^virtnet serve exited \(code 1\) before native was ready/);
    expect(io.state[STATE_PID]).toBe('4242');
  });

  it('holds until the client releases the environment, bounded by wait-for-release', async () => {
    const io = recordingIO({ ...inputs, 'wait-for-release': '3' }, { env });
    const fake = launcher();
    await run(io, fake.serve);
    expect(io.failed).toBeNull();
    expect(fake.calls).toEqual(['spawn', 'wait-endpoint', 'wait-release /rt/virtnet-endpoint-native.json 4242 180000']);
    expect(io.outputs.released).toBe('true');

    const late = recordingIO({ ...inputs, 'wait-for-release': '3' }, { env });
    await run(late, launcher({ released: false }).serve);
    expect(late.outputs.released).toBe('false');
    expect(late.failed).toBe(
      'the client did not release native within 3 min (wait-for-release); the post step tears it down',
    );
  });

  it('prepares the host first, answering status requests with heartbeats meanwhile, then hands the port to serve', async () => {
    const port = await freePort();
    let heard: unknown = null;
    const fake = launcher({
      prepare: async () => {
        heard = await askCoordinator('127.0.0.1', port, 'status', 3000);
        const release = await askCoordinator('127.0.0.1', port, 'release native', 3000);
        expect(release).toEqual({
          ok: false,
          error: expect.stringMatching(/^cannot release native: native is not ready yet: preparing the host/),
        });
        return null;
      },
    });
    const io = recordingIO(
      {
        ...inputs,
        'server-address': '127.0.0.1',
        'coordinator-port': String(port),
        'run-key': '42-1',
        prepare: 'bash scripts/prepare.sh --role server',
      },
      { env },
    );
    await run(io, fake.serve);
    expect(io.failed).toBeNull();
    expect(fake.calls).toEqual(['prepare bash scripts/prepare.sh --role server', 'spawn', 'wait-endpoint']);
    expect(heard).toEqual({
      ok: false,
      error: expect.stringMatching(/^native is not ready yet: preparing the host/),
      heartbeat: {
        environment: 'native',
        runKey: '42-1',
        phase: expect.stringMatching(/^preparing the host/),
        at: expect.any(String),
      },
    });
    // The port is free again for serve's own coordinator.
    await expect(askCoordinator('127.0.0.1', port, 'status', 1000)).rejects.toThrow(/ECONNREFUSED/);

    const failing = recordingIO(
      { ...inputs, 'server-address': '127.0.0.1', 'coordinator-port': String(port), prepare: 'false' },
      { env },
    );
    const broken = launcher({ prepare: async () => 'exited with 1' });
    await run(failing, broken.serve);
    expect(failing.failed).toBe("the host's preparation (false) exited with 1; see the log above");
    expect(broken.calls).toEqual(['prepare false']);
  });

  it("waits for the release as long as the plan's worst-case sweep with the stated margin (wait-for-release: plan)", async () => {
    const io = recordingIO({ ...inputs, 'wait-for-release': 'plan', plan: 'quick', replicates: '2' }, { env });
    const fake = launcher();
    await run(io, fake.serve);
    expect(io.failed).toBeNull();
    const { plan, source } = loadPlan('quick', join(REPO, 'env', 'plans'));
    const minutes = releaseWaitMinutes(overridePlan(plan, { replicates: 2 }, source));
    expect(minutes).toBeGreaterThan(RELEASE_MARGIN.minutes);
    expect(fake.calls.at(-1)).toBe(`wait-release /rt/virtnet-endpoint-native.json 4242 ${minutes * 60_000}`);
    expect(io.log.map((l) => l.message)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^release wait: ${minutes} min = plan quick's worst-case sweep of one environment \\(\\d+ min\\) x 1.25 \\+ 15 min$`,
        ),
      ),
    );

    const none = recordingIO({ ...inputs, 'wait-for-release': 'plan' }, { env });
    await run(none, launcher().serve);
    expect(none.failed).toBe("input wait-for-release is 'plan', but no plan input says which plan");
  });

  it('refuses to wait for a release without the coordinator', async () => {
    const io = recordingIO({ ...inputs, 'wait-for-release': '3', 'coordinator-port': '0' }, { env });
    await run(io, launcher({ endpoint: { ...endpoint, coordinatorPort: null } }).serve);
    expect(io.failed).toBe('input wait-for-release needs the coordinator: set coordinator-port to a port, not 0');
    expect(io.outputs['coordinator-port']).toBe('');
  });
});

describe('start-environment post step', () => {
  const stopper = (outcome: StopOutcome | Error) => {
    const calls: unknown[] = [];
    const stop = async (serve: unknown, graceMs: number): Promise<StopOutcome> => {
      calls.push([serve, graceMs]);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    };
    return { stop, calls };
  };

  it('stops the serve process by PID and start time', async () => {
    const io = recordingIO({}, { state: { [STATE_PID]: '4242', [STATE_START_TICKS]: '777' } });
    const s = stopper({ kind: 'stopped', seconds: 1.25 });
    await runPost(io, s.stop);
    expect(s.calls).toEqual([[{ pid: 4242, startTicks: '777' }, 120_000]]);
    expect(io.log).toEqual([{ level: 'info', message: 'environment torn down in 1.3 s' }]);
  });

  it('does nothing without a PID, and only warns when stopping fails or needs SIGKILL', async () => {
    const none = recordingIO({});
    const s = stopper({ kind: 'stopped', seconds: 1 });
    await runPost(none, s.stop);
    expect(s.calls).toEqual([]);
    expect(none.log[0]!.message).toBe('no environment was started: nothing to tear down');

    const killed = recordingIO({}, { state: { [STATE_PID]: '4242' } });
    await runPost(killed, stopper({ kind: 'killed', seconds: 120 }).stop);
    expect(killed.log[0]).toMatchObject({
      level: 'warning',
      message: expect.stringMatching(/did not end within 120 s and was killed/),
    });

    const broken = recordingIO({}, { state: { [STATE_PID]: '4242', [STATE_START_TICKS]: '777' } });
    await runPost(broken, stopper(new Error('EPERM')).stop);
    expect(broken.log[0]).toMatchObject({
      level: 'warning',
      message: expect.stringMatching(/tearing the environment down failed: EPERM/),
    });
    expect(broken.failed).toBeNull();
  });
});
