// run-sweep: parse inputs, sweep the served environment as an external endpoint with executeRun
// (its progress folded per environment in the log: sweep-log.ts), release it, write the job summary
// and outputs, upload the run directory.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { parseRunSweepInputs, runnerContext } from '../../lib/action/inputs.ts';
import { environmentBasesOfCheckout } from '../../../env/variants.ts';
import { uploadRunDir } from '../../lib/action/artifact-upload.ts';
import { checkPartnerRerun } from '../../lib/action/rerun.ts';
import { sweepLog } from '../../lib/action/sweep-log.ts';
import { askCoordinator, releaseRequest, releaseWithRetry } from '../../lib/measure/coordinator.ts';
import { releasePauses } from '../../lib/measure/waits.ts';
import { sleep } from '../../lib/core/proc.ts';
import { sweepSummary } from '../../lib/report/job-summary.ts';
import { loadPlan, overridePlan } from '../../lib/plan/plan-file.ts';
import { executeRun, type RunSummary } from '../../lib/measure/session.ts';
import type { HostInfo } from '../../lib/measure/records.ts';
import { assertRunDirTrusted, isRunDir, loadRun } from '../../lib/measure/run-dir.ts';
import { externalEnvironment } from '../../../env/external/external.ts';

/** Where the run directory goes (artifact-upload.ts); tests pass their own. */
export type Uploader = typeof uploadRunDir;

export async function run(io: ActionIO = actionsCore(), upload: Uploader = uploadRunDir): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const settings = parseRunSweepInputs(io.input, runnerContext(io.env), environmentBasesOfCheckout);
    // A re-run of this job without its server would wait ready-timeout for a server that is gone.
    const rerun = await checkPartnerRerun(settings.partnerJob, settings.githubToken, io.env);
    if (rerun.kind === 'lone') throw new Error(rerun.message);
    if (rerun.kind === 'unknown') io.warning(rerun.message);
    const resume = isRunDir(settings.runDir);
    if (resume) assertRunDirTrusted(settings.runDir);
    const { plan: loaded, source } = loadPlan(settings.plan, `${settings.virtnetDir}/env/plans`);
    const plan = overridePlan(
      loaded,
      { replicates: settings.replicates ?? undefined, testLengthSeconds: settings.testLengthSeconds ?? undefined },
      source,
    );
    if (resume)
      io.info(
        `appending ${settings.environment} to the run in ${settings.runDir} (its plan is kept: ${loadRun(settings.runDir).manifest.plan.name})`,
      );
    const coordinatorPort = settings.coordinatorPort === 0 ? null : settings.coordinatorPort;
    // The server is another host: it describes itself through the coordinator when the environment starts.
    let serverHost: HostInfo | null = null;
    // Whether the coordinator ever offered this run's environment: only then is there a release to retry.
    let reachedServer = false;
    const driver = externalEnvironment({
      name: settings.environment,
      coordinatorPort,
      releaseOnStop: settings.release,
      runKey: settings.runKey,
      releaseKey: settings.releaseKey,
      readyLimitMs: settings.readyLimitSeconds * 1000,
      onLive: () => (reachedServer = true),
      onServerHost: (host) => (serverHost = host),
    });
    let summary: RunSummary;
    const log = sweepLog(io);
    try {
      summary = await executeRun({
        outDir: settings.runDir,
        plan: resume ? null : plan,
        planSource: source,
        resume,
        environments: [driver],
        serverAddress: settings.serverAddress,
        hosts: { client: { prefix: [] }, server: { kind: 'remote', describe: () => serverHost } },
        runnerPair: settings.runnerPair,
        link: {
          kind: 'external',
          shaping: 'as cabled (not shaped by virtnet)',
          rateMbit: null,
          serverAddress: settings.serverAddress,
          clientAddress: null,
          clientNamespace: null,
        },
        settings: {},
        readyTimeoutMs: settings.readyTimeoutSeconds * 1000,
        repoDir: settings.virtnetDir,
        signal: controller.signal,
        onEvent: log.onEvent,
      });
    } finally {
      log.close();
      // The driver releases on stop; this also releases when the sweep never got that far, and,
      // once the server was reached, retries a release lost on the cable with doubling pauses for a
      // bounded time (waits.ts), so the server tears down now rather than at the end of its release
      // wait. A server never reached gets one try: there is nothing of this run to release.
      if (settings.release && coordinatorPort !== null) {
        const ask = () =>
          askCoordinator(
            settings.serverAddress,
            coordinatorPort,
            releaseRequest(settings.environment, settings.runKey, settings.releaseKey),
            5000,
          );
        const outcome = await releaseWithRetry(
          ask,
          reachedServer ? releasePauses() : [],
          (ms) => sleep(ms),
          (line) => io.info(line),
        );
        // A server that never offered this run's environment has nothing of it to release: no word then.
        if (reachedServer) {
          if (!('ok' in outcome))
            io.warning(
              `could not release ${settings.environment} on ${settings.serverAddress}: ${outcome.error}; the server tears it down at the end of its release wait`,
            );
          else if (!outcome.ok)
            io.warning(`the server refused the release of ${settings.environment}: ${outcome.error}`);
        }
      }
    }
    // The summary and the outputs first: a stalled or failed upload must not lose them.
    const run = loadRun(settings.runDir);
    const willUpload = settings.upload
      ? `uploaded next as artifact ${settings.artifactName}; the run directory stays on this runner at ${settings.runDir}`
      : `not uploaded (upload: false); run directory: ${settings.runDir}`;
    await io.appendSummary(
      sweepSummary({
        manifest: run.manifest,
        records: run.results.records,
        counts: summary,
        environment: settings.environment,
        artifact: willUpload,
      }),
    );
    io.setOutput('run-dir', settings.runDir);
    io.setOutput('run-id', run.manifest.runId);
    io.setOutput('status', summary.status);
    io.setOutput('measured', String(summary.measured));
    io.setOutput('failed', String(summary.failed));
    io.setOutput('missing', String(summary.missing));
    const uploaded = await uploadRunDirOrWarn(io, upload, settings.runDir, settings.artifactName, settings.upload);
    io.setOutput('artifact-id', uploaded.id === null ? '' : String(uploaded.id));
    const envError = summary.outcome.environmentErrors[settings.environment];
    if (envError && /ECONNREFUSED|EHOSTUNREACH|no answer|timed out|not ready/i.test(envError)) {
      await io.appendSummary(
        `\nThe server never offered ${settings.environment}: its job failed before serving (see its log), or has not started because its runner is offline or busy (GitHub keeps a job queued for an offline self-hosted runner up to 24 hours).\n`,
      );
    }
    if (envError) throw new Error(`${settings.environment} could not be measured: ${envError}`);
    if (summary.status === 'interrupted')
      throw new Error(
        `the sweep was interrupted (${String(controller.signal.reason)}); the measurements so far are in the artifact`,
      );
    if (summary.failed > 0) io.warning(`${summary.failed} measurements failed; see the job summary`);
  } catch (error) {
    io.setFailed((error as Error).message);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** How long an upload may take before the step gives up on it (upload-artifact#623: uploads stall on self-hosted runners). */
export const UPLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Uploads the run directory; a failure or a stall is a warning naming where the run directory is,
 * never the step's failure: the measurements are on this runner's disk, and the report job says
 * which leg's data it did not get.
 */
export async function uploadRunDirOrWarn(
  io: ActionIO,
  upload: Uploader,
  dir: string,
  name: string,
  enabled: boolean,
  timeoutMs = UPLOAD_TIMEOUT_MS,
): Promise<{ id: number | null }> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), timeoutMs)));
  try {
    const outcome = await Promise.race([upload(dir, name, enabled, io.env), stalled]);
    if (outcome === 'stalled') {
      io.warning(
        `the upload of artifact ${name} did not finish within ${Math.round(timeoutMs / 1000)} s; the run directory stays on this runner at ${dir}`,
      );
      await io.appendSummary(
        `\n**The upload of artifact ${name} stalled**: the run directory stays on this runner at \`${dir}\`.\n`,
      );
      // The stalled request would keep the step alive: end the process once this step's work is written.
      setTimeout(() => process.exit(), 1000).unref();
      return { id: null };
    }
    io.info(outcome.message);
    return { id: outcome.id };
  } catch (e) {
    io.warning(
      `the upload of artifact ${name} failed (${(e as Error).message}); the run directory stays on this runner at ${dir}`,
    );
    await io.appendSummary(
      `\n**The upload of artifact ${name} failed** (${(e as Error).message}): the run directory stays on this runner at \`${dir}\`.\n`,
    );
    return { id: null };
  } finally {
    clearTimeout(timer);
  }
}
