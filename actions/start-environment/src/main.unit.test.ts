// start-environment's main and post step as functions: inputs through a recorder, the serve
// process through a fake launcher (the real one runs in actions/chained.system.test.ts).

import { describe, expect, it } from 'vitest';
import type { EndpointFile } from '../../lib/measure/serve-protocol.ts';
import type { ServeSettings, SpawnedServe, StopOutcome } from '../../lib/measure/serve-process.ts';
import { recordingIO } from '../../lib/testing/action-io.ts';
import { run, type ServeLauncher, STATE_ENDPOINT_FILE, STATE_PID, STATE_START_TICKS } from './main.ts';
import { runPost } from './post.ts';

const env = { GITHUB_WORKSPACE: '/ws', RUNNER_TEMP: '/rt' };
const inputs = { environment: 'native', 'server-address': '198.18.0.1' };

const endpoint: EndpointFile = {
  pid: 4242, environment: 'native', endpoint: { address: '198.18.0.1', controlPort: 12865, dataPort: 12866 }, coordinatorPort: 12867,
  description: { name: 'native', summary: 'netserver 2.7.0 on the host', details: {}, accelerator: 'none', startupSeconds: 0.1 },
  startedAt: '2026-01-01T00:00:00.000Z', holdUntil: '2026-01-01T06:00:00.000Z',
};

function launcher(behaviour: { endpoint?: EndpointFile | Error; released?: boolean } = {}) {
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
  };
  return { serve, calls, spawned: () => spawnedWith };
}

describe('start-environment main', () => {
  it('starts serve with the parsed settings, saves its PID and start time first, and sets the outputs', async () => {
    const io = recordingIO(inputs, { env });
    const fake = launcher();
    // The state must be saved before the wait: a wait that fails still leaves the post step a PID.
    fake.serve.waitForEndpoint = async () => {
      expect(io.state).toEqual({ [STATE_PID]: '4242', [STATE_START_TICKS]: '777', [STATE_ENDPOINT_FILE]: '/rt/virtnet-endpoint-native.json' });
      return endpoint;
    };
    await run(io, fake.serve);
    expect(io.failed).toBeNull();
    expect(fake.spawned()).toMatchObject({ environment: 'native', serverAddress: '198.18.0.1', readyTimeoutSeconds: 300, virtnetDir: '/ws', logFile: '/rt/virtnet-serve-native.log' });
    expect(io.outputs).toEqual({
      address: '198.18.0.1', 'control-port': '12865', 'data-port': '12866', 'coordinator-port': '12867',
      endpoint: JSON.stringify(endpoint.endpoint), description: 'netserver 2.7.0 on the host',
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
    await run(io, launcher({ endpoint: new Error('virtnet serve exited (code 1) before native was ready:\nno netserver') }).serve);
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
    expect(late.failed).toBe('the client did not release native within 3 min (wait-for-release); the post step tears it down');
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
    expect(killed.log[0]).toMatchObject({ level: 'warning', message: expect.stringMatching(/did not end within 120 s and was killed/) });

    const broken = recordingIO({}, { state: { [STATE_PID]: '4242', [STATE_START_TICKS]: '777' } });
    await runPost(broken, stopper(new Error('EPERM')).stop);
    expect(broken.log[0]).toMatchObject({ level: 'warning', message: expect.stringMatching(/tearing the environment down failed: EPERM/) });
    expect(broken.failed).toBeNull();
  });
});
