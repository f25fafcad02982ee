// start-environment: parse inputs, start `virtnet serve` detached, wait until the environment
// answers, save the PID for the post step, set outputs; optionally hold until the client releases it.

import * as core from '@actions/core';
import { ENVIRONMENT_NAMES, parseStartEnvironmentInputs, runnerContext } from '../../lib/action/inputs.ts';
import { NoClientError, spawnServe, waitForEndpoint, waitForRelease } from '../../lib/measure/serve-process.ts';
import { checkPartnerRerun } from '../../lib/action/rerun.ts';

export const STATE_PID = 'serve-pid';
export const STATE_ENDPOINT_FILE = 'endpoint-file';

export async function run(): Promise<void> {
  try {
    const settings = parseStartEnvironmentInputs((name) => core.getInput(name), runnerContext(process.env), ENVIRONMENT_NAMES);
    // A re-run of this job without its client would hold the environment for a client that never comes.
    const rerun = await checkPartnerRerun(settings.partnerJob, settings.githubToken, process.env);
    if (rerun.kind === 'lone') throw new Error(rerun.message);
    if (rerun.kind === 'unknown') core.warning(rerun.message);
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
      core.info(`waiting up to ${settings.waitForReleaseMinutes} min for the client to release ${settings.environment}${settings.clientDeadlineMinutes > 0 ? ` (a client must ask for it within ${settings.clientDeadlineMinutes} min)` : ''}`);
      const client = settings.clientDeadlineMinutes > 0 ? { askedMarker: `${settings.endpointFile}.asked`, deadlineMs: settings.clientDeadlineMinutes * 60_000 } : null;
      let released: boolean;
      try {
        released = await waitForRelease(`${settings.endpointFile}.released`, served.pid, settings.waitForReleaseMinutes * 60_000, 1000, client);
      } catch (e) {
        if (!(e instanceof NoClientError)) throw e;
        // The client job failed before its sweep (checkout, preparation, its own ready-timeout), or it
        // never started: its runner is offline (GitHub keeps a job queued for an offline self-hosted
        // runner up to 24 h; this leg and the testbed's concurrency group wait with it).
        const message = `${e.message}: the client job failed before its sweep (see its log), or has not started because its runner is offline or busy. An offline runner's job stays queued for up to 24 hours before GitHub fails it, and this leg and later runs wait with it: bring the runner back or cancel the run. The post step tears ${settings.environment} down.`;
        await core.summary.addRaw(`## virtnet: ${settings.environment} was never asked for\n\n${message}\n`).write();
        throw new Error(message);
      }
      core.setOutput('released', String(released));
      if (!released) throw new Error(`the client did not release ${settings.environment} within ${settings.waitForReleaseMinutes} min (wait-for-release); the post step tears it down`);
      core.info(`${settings.environment} released by the client`);
    }
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
