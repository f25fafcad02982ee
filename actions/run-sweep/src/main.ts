// run-sweep: parse inputs, sweep the served environment as an external endpoint with executeRun,
// release it, upload the run directory, write the job summary, set outputs.

import * as core from '@actions/core';
import { ENVIRONMENT_NAMES, parseRunSweepInputs, runnerContext } from '../../lib/action/inputs.ts';
import { uploadRunDir } from '../../lib/action/artifact-upload.ts';
import { askCoordinator, releaseRequest } from '../../lib/measure/coordinator.ts';
import { checkPartnerRerun } from '../../lib/action/rerun.ts';
import { sweepSummary } from '../../lib/report/job-summary.ts';
import { loadPlan, overridePlan } from '../../lib/plan/plan-file.ts';
import { executeRun, type RunSummary } from '../../lib/measure/session.ts';
import type { HostInfo } from '../../lib/measure/records.ts';
import { isRunDir, loadRun, writeManifest } from '../../lib/measure/run-dir.ts';
import { externalEnvironment } from '../../../env/external/external.ts';

export async function run(): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const settings = parseRunSweepInputs((name) => core.getInput(name), runnerContext(process.env), ENVIRONMENT_NAMES);
    // A re-run of this job without its server would wait ready-timeout for a server that is gone.
    const rerun = await checkPartnerRerun(settings.partnerJob, settings.githubToken, process.env);
    if (rerun.kind === 'lone') throw new Error(rerun.message);
    if (rerun.kind === 'unknown') core.warning(rerun.message);
    const resume = isRunDir(settings.runDir);
    const { plan: loaded, source } = loadPlan(settings.plan, `${settings.virtnetDir}/env/plans`);
    const plan = overridePlan(loaded, { replicates: settings.replicates ?? undefined, testLengthSeconds: settings.testLengthSeconds ?? undefined }, source);
    if (resume) core.info(`appending ${settings.environment} to the run in ${settings.runDir} (its plan is kept: ${loadRun(settings.runDir).manifest.plan.name})`);
    const coordinatorPort = settings.coordinatorPort === 0 ? null : settings.coordinatorPort;
    let serverHost: HostInfo | null = null;
    const driver = externalEnvironment({ name: settings.environment, coordinatorPort, releaseOnStop: settings.release, runKey: settings.runKey, releaseKey: settings.releaseKey, onServerHost: (host) => (serverHost = host) });
    let summary: RunSummary;
    try {
      summary = await executeRun({
        outDir: settings.runDir,
        plan: resume ? null : plan,
        planSource: source,
        resume,
        environments: [driver],
        serverAddress: settings.serverAddress,
        clientPrefix: [],
        link: { kind: 'external', shaping: 'as cabled (not shaped by virtnet)', rateMbit: null, serverAddress: settings.serverAddress, clientAddress: null, clientNamespace: null },
        settings: {},
        readyTimeoutMs: settings.readyTimeoutSeconds * 1000,
        repoDir: settings.virtnetDir,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.kind === 'notice') core.info(`note: ${e.message}`);
          else if (e.kind === 'measured') {
            const r = e.record;
            core.info(`[${e.index}/${e.total}] ${r.environment} ${r.test} ${r.parameter === 'sendSocketSize' ? '-s' : '-m'} ${r.value} rep ${r.replicate}: ${r.status === 'ok' ? `${r.metrics!.throughputMbps.toFixed(2)} Mbit/s` : `FAILED: ${r.error}`}`);
          } else if (e.kind === 'environment-failed') core.error(`${e.environment}: ${e.error}`);
          else if (e.kind === 'environment-ready') core.info(`${e.environment} ready: ${e.description.summary}`);
          else if (e.kind === 'retry') core.info(`retry ${e.attempt}: ${e.task.point.id}: ${e.error}`);
        },
      });
    } finally {
      // The driver releases on stop; this also releases when the sweep never got that far.
      if (settings.release && coordinatorPort !== null) {
        await askCoordinator(settings.serverAddress, coordinatorPort, releaseRequest(settings.environment, settings.runKey, settings.releaseKey), 5000).catch(() => null);
      }
    }
    if (serverHost) {
      // executeRun describes the server from the machine it runs on, which here is the client; the
      // server's own metadata came over the coordinator.
      const loaded = loadRun(settings.runDir);
      writeManifest(settings.runDir, { ...loaded.manifest, hosts: { ...loaded.manifest.hosts, server: serverHost } });
    }
    // The summary and the outputs first: a stalled or failed upload must not lose them.
    const run = loadRun(settings.runDir);
    const willUpload = settings.upload ? `uploaded next as artifact ${settings.artifactName}; the run directory stays on this runner at ${settings.runDir}` : `not uploaded (upload: false); run directory: ${settings.runDir}`;
    await core.summary.addRaw(sweepSummary({ manifest: run.manifest, records: run.results.records, counts: summary, environment: settings.environment, artifact: willUpload })).write();
    core.setOutput('run-dir', settings.runDir);
    core.setOutput('run-id', run.manifest.runId);
    core.setOutput('status', summary.status);
    core.setOutput('measured', String(summary.measured));
    core.setOutput('failed', String(summary.failed));
    core.setOutput('missing', String(summary.missing));
    const upload = await uploadRunDirOrWarn(settings.runDir, settings.artifactName, settings.upload);
    core.setOutput('artifact-id', upload.id === null ? '' : String(upload.id));
    const envError = summary.outcome.environmentErrors[settings.environment];
    if (envError && /ECONNREFUSED|EHOSTUNREACH|no answer|timed out|not ready/i.test(envError)) {
      await core.summary.addRaw(`\nThe server never offered ${settings.environment}: its job failed before serving (see its log), or has not started because its runner is offline or busy (GitHub keeps a job queued for an offline self-hosted runner up to 24 hours).\n`).write();
    }
    if (envError) throw new Error(`${settings.environment} could not be measured: ${envError}`);
    if (summary.status === 'interrupted') throw new Error(`the sweep was interrupted (${String(controller.signal.reason)}); the measurements so far are in the artifact`);
    if (summary.failed > 0) core.warning(`${summary.failed} measurements failed; see the job summary`);
  } catch (error) {
    core.setFailed((error as Error).message);
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
export async function uploadRunDirOrWarn(dir: string, name: string, enabled: boolean, timeoutMs = UPLOAD_TIMEOUT_MS): Promise<{ id: number | null }> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), timeoutMs)));
  try {
    const outcome = await Promise.race([uploadRunDir(dir, name, enabled, process.env), stalled]);
    if (outcome === 'stalled') {
      core.warning(`the upload of artifact ${name} did not finish within ${Math.round(timeoutMs / 1000)} s; the run directory stays on this runner at ${dir}`);
      await core.summary.addRaw(`\n**The upload of artifact ${name} stalled**: the run directory stays on this runner at \`${dir}\`.\n`).write();
      // The stalled request would keep the step alive: end the process once this step's work is written.
      setTimeout(() => process.exit(), 1000).unref();
      return { id: null };
    }
    core.info(outcome.message);
    return { id: outcome.id };
  } catch (e) {
    core.warning(`the upload of artifact ${name} failed (${(e as Error).message}); the run directory stays on this runner at ${dir}`);
    await core.summary.addRaw(`\n**The upload of artifact ${name} failed** (${(e as Error).message}): the run directory stays on this runner at \`${dir}\`.\n`).write();
    return { id: null };
  } finally {
    clearTimeout(timer);
  }
}
