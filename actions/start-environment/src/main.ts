// start-environment: parse inputs, start `virtnet serve` detached, wait until the environment
// answers, save the PID for the post step, set outputs; optionally hold until the client releases it.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { ENVIRONMENT_NAMES, parseStartEnvironmentInputs, runnerContext } from '../../lib/action/inputs.ts';
import { spawnServe, waitForEndpoint, waitForRelease } from '../../lib/measure/serve-process.ts';

export const STATE_PID = 'serve-pid';
/** The serve process's start time: the post step signals the PID only while it is still that process. */
export const STATE_START_TICKS = 'serve-start-ticks';
export const STATE_ENDPOINT_FILE = 'endpoint-file';

/** The serve process's edge (serve-process.ts); tests pass their own. */
export interface ServeLauncher {
  spawn: typeof spawnServe;
  waitForEndpoint: typeof waitForEndpoint;
  waitForRelease: typeof waitForRelease;
}

const realLauncher: ServeLauncher = { spawn: spawnServe, waitForEndpoint, waitForRelease };

export async function run(io: ActionIO = actionsCore(), serve: ServeLauncher = realLauncher): Promise<void> {
  try {
    const settings = parseStartEnvironmentInputs(io.input, runnerContext(io.env), ENVIRONMENT_NAMES);
    io.info(`starting ${settings.environment} on ${settings.serverAddress} (log: ${settings.logFile})`);
    const served = serve.spawn(settings, io.env);
    // Saved before anything else can fail, so the post step stops it whatever happens next.
    io.saveState(STATE_PID, String(served.pid));
    io.saveState(STATE_START_TICKS, served.startTicks);
    io.saveState(STATE_ENDPOINT_FILE, settings.endpointFile);
    const info = await serve.waitForEndpoint(settings, served, (settings.readyTimeoutSeconds + 60) * 1000);
    const { endpoint } = info;
    io.info(`${settings.environment} ready at ${endpoint.address}:${endpoint.controlPort} (data port ${endpoint.dataPort}): ${info.description.summary}`);
    io.setOutput('address', endpoint.address);
    io.setOutput('control-port', String(endpoint.controlPort));
    io.setOutput('data-port', String(endpoint.dataPort));
    io.setOutput('coordinator-port', info.coordinatorPort === null ? '' : String(info.coordinatorPort));
    io.setOutput('endpoint', JSON.stringify(endpoint));
    io.setOutput('description', info.description.summary);
    if (settings.waitForReleaseMinutes > 0) {
      if (info.coordinatorPort === null) throw new Error('input wait-for-release needs the coordinator: set coordinator-port to a port, not 0');
      io.info(`waiting up to ${settings.waitForReleaseMinutes} min for the client to release ${settings.environment}`);
      const released = await serve.waitForRelease(settings.endpointFile, served, settings.waitForReleaseMinutes * 60_000);
      io.setOutput('released', String(released));
      if (!released) throw new Error(`the client did not release ${settings.environment} within ${settings.waitForReleaseMinutes} min (wait-for-release); the post step tears it down`);
      io.info(`${settings.environment} released by the client`);
    }
  } catch (error) {
    io.setFailed((error as Error).message);
  }
}
