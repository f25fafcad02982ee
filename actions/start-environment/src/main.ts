// start-environment: parse inputs, start `virtnet serve` detached, wait until the environment
// answers, save the PID for the post step, set outputs; optionally hold until the client releases it.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { parseStartEnvironmentInputs, runnerContext } from '../../lib/action/inputs.ts';
import { environmentBasesOfCheckout } from '../../../env/variants.ts';
import { checkPartnerRerun } from '../../lib/action/rerun.ts';
import { NoClientError, spawnServe, waitForEndpoint, waitForRelease } from './serve-process.ts';
import { startCoordinator } from '../../lib/measure/coordinator.ts';
import { runCommand } from '../../lib/core/proc.ts';
import { loadPlan, overridePlan } from '../../lib/plan/plan-file.ts';
import { RELEASE_MARGIN, releaseWaitMinutes, worstSweepSeconds } from '../../lib/measure/waits.ts';
import type { StartEnvironmentSettings } from '../../lib/action/inputs.ts';

export const STATE_PID = 'serve-pid';
/** The serve process's start time: the post step signals the PID only while it is still that process. */
export const STATE_START_TICKS = 'serve-start-ticks';
export const STATE_ENDPOINT_FILE = 'endpoint-file';

/** The serve process's edge (serve-process.ts); tests pass their own. */
export interface ServeLauncher {
  spawn: typeof spawnServe;
  waitForEndpoint: typeof waitForEndpoint;
  waitForRelease: typeof waitForRelease;
  /** Runs the host's preparation (the prepare input); resolves with its exit code, or a reason it ended otherwise. */
  prepare: (command: string, settings: StartEnvironmentSettings) => Promise<string | null>;
}

/** Runs the prepare command with bash in the checkout, its output in the step's log; null when it succeeded. */
async function runPrepare(command: string, settings: StartEnvironmentSettings): Promise<string | null> {
  const result = await runCommand(['bash', '-c', command], {
    timeoutMs: settings.prepareTimeoutMinutes * 60_000,
    cwd: settings.virtnetDir,
    passOutput: true,
  });
  if (result.timedOut) return `did not end within ${settings.prepareTimeoutMinutes} min (prepare-timeout)`;
  return result.exitCode === 0 ? null : `exited with ${result.exitCode ?? result.signal}`;
}

const realLauncher: ServeLauncher = { spawn: spawnServe, waitForEndpoint, waitForRelease, prepare: runPrepare };

/**
 * The host's preparation (npm packages, apt) before the environment starts, with the coordinator
 * already answering: every status request gets a heartbeat, so the client's ready wait counts from
 * the server's last sign of life (waits.ts) rather than racing a fresh host's first set-up.
 */
async function prepareWithHeartbeats(
  io: ActionIO,
  settings: StartEnvironmentSettings,
  serve: ServeLauncher,
): Promise<void> {
  if (settings.prepare === null) return;
  const coordinator =
    settings.coordinatorPort === 0
      ? null
      : await startCoordinator({
          address: settings.serverAddress,
          port: settings.coordinatorPort,
          status: null,
          starting: () => ({
            environment: settings.environment,
            runKey: settings.runKey,
            phase: 'preparing the host (npm packages, system packages)',
            at: new Date().toISOString(),
          }),
          onRelease: () => {},
        });
  io.info(
    `preparing the host: ${settings.prepare}${coordinator ? ` (heartbeats on ${settings.serverAddress}:${coordinator.port})` : ''}`,
  );
  try {
    const problem = await serve.prepare(settings.prepare, settings);
    if (problem !== null) throw new Error(`the host's preparation (${settings.prepare}) ${problem}; see the log above`);
  } finally {
    // Serve takes the port over next: its own coordinator sends the heartbeats while the environment boots.
    await coordinator?.close();
  }
}

/** The release wait in minutes: as given, or the plan's worst-case sweep with the stated margin. */
function releaseWait(io: ActionIO, settings: StartEnvironmentSettings): number {
  if (settings.waitForRelease !== 'plan') return settings.waitForRelease;
  const { plan: loaded, source } = loadPlan(settings.plan!.name, `${settings.virtnetDir}/env/plans`);
  const plan = overridePlan(
    loaded,
    {
      replicates: settings.plan!.replicates ?? undefined,
      testLengthSeconds: settings.plan!.testLengthSeconds ?? undefined,
    },
    source,
  );
  const minutes = releaseWaitMinutes(plan);
  io.info(
    `release wait: ${minutes} min = plan ${plan.name}'s worst-case sweep of one environment (${Math.ceil(worstSweepSeconds(plan) / 60)} min) x ${RELEASE_MARGIN.factor} + ${RELEASE_MARGIN.minutes} min`,
  );
  return minutes;
}

export async function run(io: ActionIO = actionsCore(), serve: ServeLauncher = realLauncher): Promise<void> {
  try {
    const settings = parseStartEnvironmentInputs(io.input, runnerContext(io.env), environmentBasesOfCheckout);
    // A re-run of this job without its client would hold the environment for a client that never comes.
    const rerun = await checkPartnerRerun(settings.partnerJob, settings.githubToken, io.env);
    if (rerun.kind === 'lone') throw new Error(rerun.message);
    if (rerun.kind === 'unknown') io.warning(rerun.message);
    // Worked out first: a plan that does not load fails the step before anything starts.
    const waitMinutes = releaseWait(io, settings);
    await prepareWithHeartbeats(io, settings, serve);
    io.info(`starting ${settings.environment} on ${settings.serverAddress} (log: ${settings.logFile})`);
    const served = serve.spawn(settings, io.env);
    // Saved before anything else can fail, so the post step stops it whatever happens next.
    io.saveState(STATE_PID, String(served.pid));
    io.saveState(STATE_START_TICKS, served.startTicks);
    io.saveState(STATE_ENDPOINT_FILE, settings.endpointFile);
    const info = await serve.waitForEndpoint(settings, served, (settings.readyTimeoutSeconds + 60) * 1000);
    const { endpoint } = info;
    io.info(
      `${settings.environment} ready at ${endpoint.address}:${endpoint.controlPort} (data port ${endpoint.dataPort}): ${info.description.summary}`,
    );
    io.setOutput('address', endpoint.address);
    io.setOutput('control-port', String(endpoint.controlPort));
    io.setOutput('data-port', String(endpoint.dataPort));
    io.setOutput('coordinator-port', info.coordinatorPort === null ? '' : String(info.coordinatorPort));
    io.setOutput('endpoint', JSON.stringify(endpoint));
    io.setOutput('description', info.description.summary);
    if (waitMinutes > 0) {
      if (info.coordinatorPort === null)
        throw new Error('input wait-for-release needs the coordinator: set coordinator-port to a port, not 0');
      io.info(
        `waiting up to ${waitMinutes} min for the client to release ${settings.environment}${settings.clientDeadlineMinutes > 0 ? ` (a client must ask for it within ${settings.clientDeadlineMinutes} min)` : ''}`,
      );
      let released: boolean;
      try {
        released = await serve.waitForRelease(
          settings.endpointFile,
          served,
          waitMinutes * 60_000,
          1000,
          settings.clientDeadlineMinutes > 0 ? settings.clientDeadlineMinutes * 60_000 : null,
        );
      } catch (e) {
        if (!(e instanceof NoClientError)) throw e;
        // The client job failed before its sweep (checkout, preparation, its own ready-timeout), or it
        // never started: its runner is offline (GitHub keeps a job queued for an offline self-hosted
        // runner up to 24 h; this leg and the testbed's concurrency group wait with it).
        const message = `${e.message}: the client job failed before its sweep (see its log), or has not started because its runner is offline or busy. An offline runner's job stays queued for up to 24 hours before GitHub fails it, and this leg and later runs wait with it: bring the runner back or cancel the run. The post step tears ${settings.environment} down.`;
        await io.appendSummary(`## virtnet: ${settings.environment} was never asked for\n\n${message}\n`);
        throw new Error(message);
      }
      io.setOutput('released', String(released));
      if (!released)
        throw new Error(
          `the client did not release ${settings.environment} within ${waitMinutes} min (wait-for-release); the post step tears it down`,
        );
      io.info(`${settings.environment} released by the client`);
    }
  } catch (error) {
    io.setFailed((error as Error).message);
  }
}
