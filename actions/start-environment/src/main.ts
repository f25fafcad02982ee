// start-environment: parse inputs, start `virtnet serve` detached, wait until the environment
// answers, save the PID for the post step, set outputs; optionally hold until the client releases it.

import * as core from '@actions/core';
import { ENVIRONMENT_NAMES, parseStartEnvironmentInputs, runnerContext } from '../../lib/action/inputs.ts';
import { spawnServe, waitForEndpoint, waitForRelease } from '../../lib/measure/serve-process.ts';

export const STATE_PID = 'serve-pid';
export const STATE_ENDPOINT_FILE = 'endpoint-file';

export async function run(): Promise<void> {
  try {
    const settings = parseStartEnvironmentInputs((name) => core.getInput(name), runnerContext(process.env), ENVIRONMENT_NAMES);
    core.info(`starting ${settings.environment} on ${settings.serverAddress} (log: ${settings.logFile})`);
    const served = spawnServe(settings);
    // Saved before anything else can fail, so the post step stops it whatever happens next.
    core.saveState(STATE_PID, String(served.pid));
    core.saveState(STATE_ENDPOINT_FILE, settings.endpointFile);
    const info = await waitForEndpoint(settings, served, (settings.readyTimeoutSeconds + 60) * 1000);
    const { endpoint } = info;
    core.info(`${settings.environment} ready at ${endpoint.address}:${endpoint.controlPort} (data port ${endpoint.dataPort}): ${info.description.summary}`);
    core.setOutput('address', endpoint.address);
    core.setOutput('control-port', String(endpoint.controlPort));
    core.setOutput('data-port', String(endpoint.dataPort));
    core.setOutput('coordinator-port', info.coordinatorPort === null ? '' : String(info.coordinatorPort));
    core.setOutput('endpoint', JSON.stringify(endpoint));
    core.setOutput('description', info.description.summary);
    if (settings.waitForReleaseMinutes > 0) {
      if (info.coordinatorPort === null) throw new Error('input wait-for-release needs the coordinator: set coordinator-port to a port, not 0');
      core.info(`waiting up to ${settings.waitForReleaseMinutes} min for the client to release ${settings.environment}`);
      const released = await waitForRelease(`${settings.endpointFile}.released`, served.pid, settings.waitForReleaseMinutes * 60_000);
      core.setOutput('released', String(released));
      if (!released) throw new Error(`the client did not release ${settings.environment} within ${settings.waitForReleaseMinutes} min (wait-for-release); the post step tears it down`);
      core.info(`${settings.environment} released by the client`);
    }
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
