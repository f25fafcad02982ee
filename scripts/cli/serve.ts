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
import {
  askedMarker,
  endpointFileText,
  RELEASE_KEY_ENV,
  releasedMarker,
  releaseKeyFrom,
  SERVE_OPTIONS,
  serveRequestFrom,
} from '../../actions/lib/measure/serve-protocol.ts';
import { InputError } from '../../actions/lib/core/input.ts';
import type { StartedEnvironment } from '../../actions/lib/measure/environment.ts';
import { findEnvironment } from '../../env/registry.ts';
import { testbedLayout } from '../../env/testbed/testbed.ts';
import { asOptions, parseCommandArgs, UsageError, say } from './common.ts';
import { writeFileSafely } from '../../actions/lib/core/safe-write.ts';

/** A bad environment variable is command-line misuse too, named as it is set. */
function asEnvironmentVariable<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`${e.field}: ${e.problem}`);
    throw e;
  }
}

function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSafely(tmp, content);
  renameSync(tmp, path);
}

export async function commandServe(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, SERVE_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const request = asOptions(() => serveRequestFrom(values));
  const driver = findEnvironment(request.environment);
  const index = request.testbedIndex;
  const serverAddress = request.serverAddress ?? testbedLayout(index).serverAddress;
  const ports = { control: request.controlPort, data: request.dataPort };
  const coordinatorPort = request.coordinatorPort;
  const readyTimeoutS = request.readyTimeoutSeconds;
  const holdMinutes = request.holdTimeoutMinutes;
  const endpointFile = request.endpointFile;
  const runKey = request.runKey ?? null;
  const releaseKeyText = process.env[RELEASE_KEY_ENV] || null;
  const releaseKey =
    releaseKeyText === null ? null : asEnvironmentVariable(() => releaseKeyFrom(RELEASE_KEY_ENV, releaseKeyText));
  const logDir = request.logDir ?? join(dirname(endpointFile), `virtnet-serve-logs-${driver.name}`);
  const settings: Record<string, string> = { accel: request.accelerator, testbedIndex: String(index) };
  if (request.osvImage) settings.osvImage = request.osvImage;

  rmSync(endpointFile, { force: true });
  rmSync(releasedMarker(endpointFile), { force: true });
  rmSync(askedMarker(endpointFile), { force: true });
  mkdirSync(logDir, { recursive: true });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    say(`virtnet serve: ${signal}: tearing ${driver.name} down`);
    controller.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const availability = await driver.available(settings);
  if (!availability.ok) throw new Error(`${driver.name} is not available on this machine: ${availability.reason}`);
  let started: StartedEnvironment | null = null;
  let coordinator: RunningCoordinator | null = null;
  // The phase the heartbeats tell: the environment's last log line while it starts.
  let phase = `starting ${driver.name}`;
  try {
    // The coordinator answers from the start, with heartbeats until the environment is ready: a
    // client's ready wait counts from the last one (waits.ts), so a slow boot is not a dead server.
    if (coordinatorPort > 0) {
      coordinator = await startCoordinator({
        address: serverAddress,
        port: coordinatorPort,
        status: null,
        starting: () => ({
          environment: driver.name,
          runKey,
          phase: phase.slice(0, 200),
          at: new Date().toISOString(),
        }),
        releaseKey,
        onRelease: () => {
          say(`virtnet serve: ${driver.name} released by the client`);
          writeAtomically(releasedMarker(endpointFile), `${new Date().toISOString()}\n`);
        },
        onStatus: () => {
          if (existsSync(askedMarker(endpointFile))) return;
          say(`virtnet serve: a client asked for ${driver.name}'s status`);
          writeAtomically(askedMarker(endpointFile), `${new Date().toISOString()}\n`);
        },
      });
    }
    say(
      `virtnet serve: starting ${driver.name} on ${serverAddress} (ports ${ports.control}/${ports.data}), ready within ${readyTimeoutS} s`,
    );
    started = await driver.start({
      serverAddress,
      ports,
      logDir,
      probe: netperfProbe([], controller.signal),
      readyTimeoutMs: readyTimeoutS * 1000,
      settings,
      log: (m) => {
        phase = `starting ${driver.name}: ${m}`;
        say(`  ${m}`);
      },
      signal: controller.signal,
    });
    if (controller.signal.aborted) return 143;
    const holdUntil = new Date(Date.now() + holdMinutes * 60_000);
    coordinator?.live({
      environment: driver.name,
      endpoint: started.endpoint,
      released: false,
      description: started.description,
      host: await collectHostInfo('server'),
      runKey,
    });
    const content = {
      pid: process.pid,
      environment: driver.name,
      endpoint: started.endpoint,
      coordinatorPort: coordinator?.port ?? null,
      description: started.description,
      startedAt: new Date().toISOString(),
      holdUntil: holdUntil.toISOString(),
    };
    writeAtomically(endpointFile, endpointFileText(content));
    say(
      `virtnet serve: ${driver.name} ready: ${started.description.summary}; holding until SIGTERM or ${holdUntil.toISOString()}`,
    );
    await sleep(holdMinutes * 60_000, controller.signal);
    if (!controller.signal.aborted)
      say(`virtnet serve: hold timeout of ${holdMinutes} min reached: tearing ${driver.name} down`);
    return 0;
  } finally {
    await coordinator?.close();
    if (started) await started.stop();
    if (existsSync(endpointFile)) rmSync(endpointFile, { force: true });
    rmSync(askedMarker(endpointFile), { force: true });
    say(`virtnet serve: ${driver.name} stopped`);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
