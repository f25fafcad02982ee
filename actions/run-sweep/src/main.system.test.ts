// run-sweep's main as a function, against a real netserver and a real coordinator on loopback
// (what the server runner offers), with the artifact upload replaced. Checks what only main wires:
// the server host comes from the coordinator into the manifest, the environment is released, the
// outputs and the summary.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadOutcome } from '../../lib/action/artifact-upload.ts';
import { Daemon } from '../../lib/core/proc.ts';
import { type RunningCoordinator, startCoordinator } from '../../lib/measure/coordinator.ts';
import type { HostInfo } from '../../lib/measure/records.ts';
import { loadRun } from '../../lib/measure/run-dir.ts';
import type { CoordinatorStatus } from '../../lib/measure/serve-protocol.ts';
import { foldedLog, recordingIO } from '../../lib/testing/action-io.ts';
import { netserverMissing, requireService, skipNote } from '../../lib/testing/requirements.ts';
import { testIndex } from '../../lib/testing/testbeds.ts';
import { run } from './main.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
const missing = requireService('netserver', await netserverMissing());
// Ports of this checkout's test range, so parallel checkouts never share them.
const control = 20000 + testIndex(5) * 10;
const ports = { control, data: control + 1, coordinator: control + 2 };
const address = '127.0.0.1';

const serverHost: HostInfo = {
  role: 'server',
  hostname: 'the-server-runner',
  cpuModel: 'Server CPU',
  cores: 4,
  memoryBytes: 8 * 2 ** 30,
  kernel: '6.1.0-server',
  distribution: 'Debian GNU/Linux 12',
  netperfVersion: '2.7.0',
  sysctls: { 'net.core.wmem_max': '212992' },
  virtualizationFlags: [],
};

describe.skipIf(missing !== null)(`run-sweep main${skipNote(missing)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'virtnet-run-sweep-'));
  // The workspace is the temporary folder (the plan file is in it); virtnet-dir is this checkout.
  const env = { GITHUB_WORKSPACE: work, RUNNER_TEMP: work };
  let netserver: Daemon;
  let coordinator: RunningCoordinator;
  let releases = 0;
  const plan = join(work, 'plan.json');

  beforeAll(async () => {
    const quick = JSON.parse(readFileSync(join(REPO, 'env/plans/quick.json'), 'utf8'));
    writeFileSync(
      plan,
      JSON.stringify({
        ...quick,
        name: 'loopback',
        warmupSeconds: 0,
        ports: { control: ports.control, data: ports.data },
        sweeps: [
          { ...quick.sweeps[0], from: 4100, to: 4100 },
          { ...quick.sweeps[1], from: 1450, to: 1450 },
        ],
      }),
    );
    netserver = new Daemon(['netserver', '-D', '-f', '-4', '-L', address, '-p', String(ports.control)], {
      label: 'test:netserver',
    });
    const status: CoordinatorStatus = {
      environment: 'native',
      endpoint: { address, controlPort: ports.control, dataPort: ports.data, dataAddress: address },
      released: false,
      description: {
        name: 'native',
        summary: 'netserver on loopback',
        details: {},
        accelerator: 'none',
        startupSeconds: 0.1,
      },
      host: serverHost,
    };
    // The action's driver probes netserver until it answers: no wait here.
    coordinator = await startCoordinator({ address, port: ports.coordinator, status, onRelease: () => releases++ });
  });

  afterAll(async () => {
    await coordinator?.close();
    await netserver?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    environment: 'native',
    'server-address': address,
    'coordinator-port': String(ports.coordinator),
    plan: 'plan.json',
    'virtnet-dir': REPO,
    'run-dir': join(work, 'run'),
    'ready-timeout': '30',
    ...extra,
  });

  it('sweeps the served environment, records the server host the coordinator described, releases it and sets the outputs', async () => {
    const io = recordingIO(inputs(), { env });
    const uploads: unknown[] = [];
    const upload = async (dir: string, name: string, enabled: boolean): Promise<UploadOutcome> => {
      uploads.push([dir, name, enabled]);
      return { id: 7, message: `uploaded as ${name}` };
    };
    await run(io, upload);
    expect(io.failed, io.log.map((l) => l.message).join('\n')).toBeNull();
    const runDir = join(work, 'run');
    const loaded = loadRun(runDir);
    expect(loaded.manifest.hosts.server).toEqual(serverHost);
    expect(loaded.manifest.hosts.client).toMatchObject({ role: 'client', hostname: hostname() });
    expect(loaded.manifest.link?.kind).toBe('external');
    expect(loaded.results.records.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(releases).toBe(1);
    expect(uploads).toEqual([[runDir, 'virtnet-run-native', true]]);
    expect(io.outputs).toEqual({
      'run-dir': runDir,
      'run-id': loaded.manifest.runId,
      status: 'complete',
      measured: '2',
      failed: '0',
      missing: '0',
      'artifact-id': '7',
    });
    // The environment's lines are folded in one group, each netperf command at debug level; after
    // the fold one summary line for it (a busy machine may flag the measurements as disturbed).
    const folded = foldedLog(io.log);
    const groups = folded.filter((e) => 'group' in e);
    expect(groups.map((g) => g.group)).toEqual(['== native block 1: starting (2 measurements)']);
    const inside = groups[0]!.lines;
    expect(
      inside.filter((l) => l.level === 'info' && /^\[[12]\/2\] native (TCP|UDP)_STREAM .*Mbit\/s/.test(l.message)),
    ).toHaveLength(2);
    expect(inside.filter((l) => l.level === 'debug' && /^\s*netperf .*-H 127\.0\.0\.1/.test(l.message))).toHaveLength(
      2,
    );
    const after = folded[folded.indexOf(groups[0]!) + 1];
    expect(after).toEqual({
      level: 'info',
      message: expect.stringMatching(
        /^native block 1: 2 of 2 measurements ok(, [12] flagged as disturbed)?, 2 of 2 round-trip probes ok in \d+s$/,
      ),
    });
    expect(folded.filter((e) => !('group' in e) && /Mbit\/s/.test(e.message))).toEqual([]);
    expect(io.log.filter((l) => l.level === 'error')).toEqual([]);
    expect(io.summary).toContain(loaded.manifest.runId);
  });

  it('fails naming the environment when the server has another one live', async () => {
    const io = recordingIO(
      inputs({ environment: 'docker', 'run-dir': join(work, 'wrong'), 'ready-timeout': '2', release: 'false' }),
      { env },
    );
    await run(io, async () => ({ id: null, message: 'not uploaded' }));
    expect(io.failed).toMatch(/^docker could not be measured: .*the server has native live, not docker/);
    expect(io.log.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringMatching(/^== docker: FAILED to start/),
    ]);
    const topLines = foldedLog(io.log).flatMap((e) => ('group' in e ? [] : [e.message]));
    expect(topLines).toContainEqual(expect.stringMatching(/^docker block 1: not measured \(failed to start: /));
  });

  it('refuses bad inputs before measuring anything', async () => {
    const io = recordingIO(inputs({ replicates: '0' }), { env });
    await run(io, async () => {
      throw new Error('must not upload');
    });
    expect(io.failed).toBe('input replicates: 0 is out of range: expected 1 to 1000');
  });
});
