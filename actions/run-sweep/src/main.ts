// run-sweep: parse inputs, sweep the served environment as an external endpoint with executeRun,
// release it, upload the run directory, write the job summary, set outputs.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { ENVIRONMENT_NAMES, parseRunSweepInputs, runnerContext } from '../../lib/action/inputs.ts';
import { uploadRunDir } from '../../lib/action/artifact-upload.ts';
import { askCoordinator } from '../../lib/measure/coordinator.ts';
import { sweepSummary } from '../../lib/report/job-summary.ts';
import { loadPlan, overridePlan } from '../../lib/plan/plan-file.ts';
import { executeRun, type RunSummary } from '../../lib/measure/session.ts';
import { describeEvent } from '../../lib/measure/sweep-events.ts';
import type { HostInfo } from '../../lib/measure/records.ts';
import { isRunDir, loadRun } from '../../lib/measure/run-dir.ts';
import { externalEnvironment } from '../../../env/external/external.ts';

/** Where the run directory goes (artifact-upload.ts); tests pass their own. */
export type Uploader = typeof uploadRunDir;

export async function run(io: ActionIO = actionsCore(), upload: Uploader = uploadRunDir): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const settings = parseRunSweepInputs(io.input, runnerContext(io.env), ENVIRONMENT_NAMES);
    const resume = isRunDir(settings.runDir);
    const { plan: loaded, source } = loadPlan(settings.plan, `${settings.virtnetDir}/env/plans`);
    const plan = overridePlan(loaded, { replicates: settings.replicates ?? undefined, testLengthSeconds: settings.testLengthSeconds ?? undefined }, source);
    if (resume) io.info(`appending ${settings.environment} to the run in ${settings.runDir} (its plan is kept: ${loadRun(settings.runDir).manifest.plan.name})`);
    const coordinatorPort = settings.coordinatorPort === 0 ? null : settings.coordinatorPort;
    // The server is another host: it describes itself through the coordinator when the environment starts.
    let serverHost: HostInfo | null = null;
    const driver = externalEnvironment({ name: settings.environment, coordinatorPort, releaseOnStop: settings.release, onServerHost: (host) => (serverHost = host) });
    let summary: RunSummary;
    try {
      summary = await executeRun({
        outDir: settings.runDir,
        plan: resume ? null : plan,
        planSource: source,
        resume,
        environments: [driver],
        serverAddress: settings.serverAddress,
        hosts: { client: { prefix: [] }, server: { kind: 'remote', describe: () => serverHost } },
        link: { kind: 'external', shaping: 'as cabled (not shaped by virtnet)', rateMbit: null, serverAddress: settings.serverAddress, clientAddress: null, clientNamespace: null },
        settings: {},
        readyTimeoutMs: settings.readyTimeoutSeconds * 1000,
        repoDir: settings.virtnetDir,
        signal: controller.signal,
        onEvent: (e) => {
          const line = describeEvent(e);
          if (line.level === 'error') io.error(line.text.trim());
          else io.info(line.text);
        },
      });
    } finally {
      // The driver releases on stop; this also releases when the sweep never got that far.
      if (settings.release && coordinatorPort !== null) {
        await askCoordinator(settings.serverAddress, coordinatorPort, `release ${settings.environment}`, 5000).catch(() => null);
      }
    }
    const uploaded = await upload(settings.runDir, settings.artifactName, settings.upload, io.env);
    io.info(uploaded.message);
    const run = loadRun(settings.runDir);
    await io.appendSummary(sweepSummary({ manifest: run.manifest, records: run.results.records, counts: summary, environment: settings.environment, artifact: uploaded.message }));
    io.setOutput('run-dir', settings.runDir);
    io.setOutput('run-id', run.manifest.runId);
    io.setOutput('status', summary.status);
    io.setOutput('measured', String(summary.measured));
    io.setOutput('failed', String(summary.failed));
    io.setOutput('missing', String(summary.missing));
    io.setOutput('artifact-id', uploaded.id === null ? '' : String(uploaded.id));
    const envError = summary.outcome.environmentErrors[settings.environment];
    if (envError) throw new Error(`${settings.environment} could not be measured: ${envError}`);
    if (summary.status === 'interrupted') throw new Error(`the sweep was interrupted (${String(controller.signal.reason)}); the measurements so far are in the artifact`);
    if (summary.failed > 0) io.warning(`${summary.failed} measurements failed; see the job summary`);
  } catch (error) {
    io.setFailed((error as Error).message);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
