// virtnet serve: the server side of a two-runner setup. Starts one environment, writes its
// endpoint to a file once netserver answers, offers the coordinator (which environment is live;
// release), and holds the environment until SIGTERM/SIGINT or the hold timeout, then tears it down.
// The start-environment action runs this detached, so the environment outlives the action's main
// step and is torn down by its post step.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type RunningCoordinator, startCoordinator } from '../../actions/lib/measure/coordinator.ts';
import { collectHostInfo } from '../../actions/lib/measure/host-info.ts';
import { sleep } from '../../actions/lib/core/proc.ts';
import { netperfProbe } from '../../actions/lib/measure/session.ts';
import type { StartedEnvironment } from '../../actions/lib/measure/environment.ts';
import { findEnvironment } from '../../env/registry.ts';
import { testbedLayout } from '../../env/testbed/testbed.ts';
import { intOption, parseCommandArgs, UsageError } from './common.ts';

const OPTIONS = {
  env: { type: 'string' },
  index: { type: 'string' },
  server: { type: 'string' },
  'endpoint-file': { type: 'string' },
  'control-port': { type: 'string' },
  'data-port': { type: 'string' },
  'coordinator-port': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'hold-timeout': { type: 'string' },
  'osv-image': { type: 'string' },
  accel: { type: 'string' },
  'log-dir': { type: 'string' },
  'run-key': { type: 'string' },
} as const;

/** The release key comes through the environment, not argv: /proc/<pid>/cmdline is world-readable. */
export const RELEASE_KEY_ENV = 'VIRTNET_RELEASE_KEY';

/** What the endpoint file holds: read by the start-environment action (and by people). */
export interface EndpointFile {
  pid: number;
  environment: string;
  endpoint: { address: string; controlPort: number; dataPort: number };
  coordinatorPort: number | null;
  description: StartedEnvironment['description'];
  startedAt: string;
  holdUntil: string;
}

export function releasedMarker(endpointFile: string): string {
  return `${endpointFile}.released`;
}

/** Written when a client first asks for status: the server job knows a client is there. */
export function askedMarker(endpointFile: string): string {
  return `${endpointFile}.asked`;
}

function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export async function commandServe(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  if (!values.env) throw new UsageError('--env is required: the one environment to serve');
  if (!values['endpoint-file']) throw new UsageError('--endpoint-file is required: where to write the endpoint once ready');
  const driver = findEnvironment(values.env);
  const index = intOption('index', values.index, 0, 63) ?? 0;
  const serverAddress = values.server ?? testbedLayout(index).serverAddress;
  const ports = { control: intOption('control-port', values['control-port'], 1, 65535) ?? 12865, data: intOption('data-port', values['data-port'], 1, 65535) ?? 12866 };
  const coordinatorPort = intOption('coordinator-port', values['coordinator-port'], 0, 65535) ?? 12867;
  const readyTimeoutS = intOption('ready-timeout', values['ready-timeout'], 1, 3600) ?? 300;
  const holdMinutes = intOption('hold-timeout', values['hold-timeout'], 1, 24 * 60) ?? 360;
  const accel = values.accel ?? 'auto';
  if (!['auto', 'kvm', 'tcg'].includes(accel)) throw new UsageError(`--accel: expected auto, kvm or tcg, got ${JSON.stringify(accel)}`);
  const endpointFile = values['endpoint-file'];
  const runKey = values['run-key'] ?? null;
  if (runKey !== null && !/^[A-Za-z0-9._-]{1,100}$/.test(runKey)) throw new UsageError(`--run-key: expected 1-100 letters, digits, '.', '-' or '_', got ${JSON.stringify(runKey)}`);
  const releaseKey = process.env[RELEASE_KEY_ENV] || null;
  if (releaseKey !== null && !/^[A-Za-z0-9]{16,128}$/.test(releaseKey)) throw new UsageError(`${RELEASE_KEY_ENV}: expected 16-128 letters or digits`);
  const logDir = values['log-dir'] ?? join(dirname(endpointFile), `virtnet-serve-logs-${driver.name}`);
  const settings: Record<string, string> = { accel, testbedIndex: String(index) };
  if (values['osv-image']) settings.osvImage = values['osv-image'];

  rmSync(endpointFile, { force: true });
  rmSync(releasedMarker(endpointFile), { force: true });
  rmSync(askedMarker(endpointFile), { force: true });
  mkdirSync(logDir, { recursive: true });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    console.log(`virtnet serve: ${signal}: tearing ${driver.name} down`);
    controller.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const availability = await driver.available(settings);
  if (!availability.ok) throw new Error(`${driver.name} is not available on this machine: ${availability.reason}`);
  let started: StartedEnvironment | null = null;
  let coordinator: RunningCoordinator | null = null;
  try {
    console.log(`virtnet serve: starting ${driver.name} on ${serverAddress} (ports ${ports.control}/${ports.data}), ready within ${readyTimeoutS} s`);
    started = await driver.start({
      serverAddress,
      ports,
      logDir,
      probe: netperfProbe([], controller.signal),
      readyTimeoutMs: readyTimeoutS * 1000,
      settings,
      log: (m) => console.log(`  ${m}`),
      signal: controller.signal,
    });
    if (controller.signal.aborted) return 143;
    const holdUntil = new Date(Date.now() + holdMinutes * 60_000);
    if (coordinatorPort > 0) {
      coordinator = await startCoordinator({
        address: serverAddress,
        port: coordinatorPort,
        status: { environment: driver.name, endpoint: started.endpoint, released: false, description: started.description, host: await collectHostInfo('server'), runKey },
        releaseKey,
        onRelease: () => {
          console.log(`virtnet serve: ${driver.name} released by the client`);
          writeAtomically(releasedMarker(endpointFile), `${new Date().toISOString()}\n`);
        },
        onStatus: () => {
          if (existsSync(askedMarker(endpointFile))) return;
          console.log(`virtnet serve: a client asked for ${driver.name}'s status`);
          writeAtomically(askedMarker(endpointFile), `${new Date().toISOString()}\n`);
        },
      });
    }
    const content: EndpointFile = {
      pid: process.pid,
      environment: driver.name,
      endpoint: started.endpoint,
      coordinatorPort: coordinator?.port ?? null,
      description: started.description,
      startedAt: new Date().toISOString(),
      holdUntil: holdUntil.toISOString(),
    };
    writeAtomically(endpointFile, `${JSON.stringify(content, null, 2)}\n`);
    console.log(`virtnet serve: ${driver.name} ready: ${started.description.summary}; holding until SIGTERM or ${holdUntil.toISOString()}`);
    await sleep(holdMinutes * 60_000, controller.signal);
    if (!controller.signal.aborted) console.log(`virtnet serve: hold timeout of ${holdMinutes} min reached: tearing ${driver.name} down`);
    return 0;
  } finally {
    await coordinator?.close();
    if (started) await started.stop();
    if (existsSync(endpointFile)) rmSync(endpointFile, { force: true });
    rmSync(askedMarker(endpointFile), { force: true });
    console.log(`virtnet serve: ${driver.name} stopped`);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
