// A run: create (or resume) a run directory, record who measured what where, sweep, and leave the
// manifest saying exactly how the session ended. Used by the CLI and by the run-sweep action.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EnvironmentDriver } from './environment.ts';
import { collectHostInfo, gitInfo } from './host-info.ts';
import type { Endpoint } from './netperf.ts';
import type { Plan } from '../plan/plan.ts';
import {
  doneTasks,
  type MeasuredValues,
  measuredValues,
  plannedTasks,
  scheduleSettings,
  taskKey,
} from '../plan/schedule.ts';
import { runCommand } from '../core/proc.ts';
import {
  type HostInfo,
  latestRecords,
  type LinkDescription,
  type Manifest,
  RESULTS_FORMAT_VERSION,
} from './records.ts';
import { roundTripOf } from './round-trip.ts';
import { isRunDir, loadRun, logsDir, ResultsAppender, RUN_LOCK_FILE, writeManifest } from './run-dir.ts';
import { acquireLock, type Lock } from '../core/lock.ts';
import { hostSampler, pathWatcher } from './host-sampler.ts';
import { cpuSampler } from './cpu-sampler.ts';
import type { ReleaseCounters } from './schedstat.ts';
import { runSweep, type SweepEvent, type SweepOutcome } from './sweep.ts';

export interface RunRequest {
  outDir: string;
  /** A new run needs the plan; a resumed run takes it from its manifest. */
  plan: Plan | null;
  planSource: string;
  resume: boolean;
  environments: readonly EnvironmentDriver[];
  serverAddress: string;
  /** Which host is the client and which the server, as the manifest describes them. */
  hosts: RunHosts;
  /** The runner pair's name (manifest.runnerPair); null or absent on the embedded testbed. */
  runnerPair?: string | null;
  link: LinkDescription;
  settings: Record<string, string>;
  readyTimeoutMs: number;
  /** Extra seconds beyond the test length before a netperf call is deemed hung and killed (default 20). */
  netperfGraceSeconds?: number;
  /** Seconds each round-trip probe runs after an environment starts (default: the sweep's, 2 s; 0: none). */
  probeSeconds?: number;
  /** Extra time beyond readyTimeoutMs before the sweep gives up on a start() that never returns (default: readyTimeoutMs + 5 min). */
  startGraceMs?: number;
  /**
   * Processes that belong to the measurement though this process did not start them (the
   * testbed's delay line): their CPU time is not counted as interference (measure/interference.ts).
   */
  ownPids?: () => readonly number[];
  /** The testbed's delay line's release counters (its stats line), read before and after each measurement; absent: none. */
  linkReleases?: () => Promise<ReleaseCounters | null>;
  repoDir: string;
  signal: AbortSignal;
  onEvent: (event: SweepEvent | { kind: 'notice'; message: string }) => void;
}

/**
 * The two ends of the link. The client is where netperf runs: this machine, or a namespace of it
 * that `prefix` enters. The server is this machine (the embedded testbed, `virtnet run`), or another
 * host (the runner pair), which describes itself: the run-sweep action hears its description from
 * the coordinator when the environment starts.
 */
export interface RunHosts {
  client: { prefix: string[] };
  server: { kind: 'this-machine' } | { kind: 'remote'; describe: () => HostInfo | null };
}

/** The testbed's hosts: the server is this machine, the client is this machine or its namespace. */
export function localHosts(clientPrefix: string[]): RunHosts {
  return { client: { prefix: clientPrefix }, server: { kind: 'this-machine' } };
}

export interface RunSummary {
  runDir: string;
  status: Manifest['status'];
  measured: number;
  failed: number;
  /** Planned tasks with no ok record after this session. */
  missing: number;
  planned: number;
  outcome: SweepOutcome;
}

export class RunSetupError extends Error {
  override name = 'RunSetupError';
  /** What is wrong with the run directory, for the caller to word its advice (a flag, an input). */
  readonly reason: 'needs-a-plan' | 'holds-a-run' | 'not-empty';
  constructor(message: string, reason: RunSetupError['reason']) {
    super(message);
    this.reason = reason;
  }
}

/** Refuses a directory a new run cannot go into: one that holds a run, or is not empty. */
export function checkNewRunDir(outDir: string): void {
  if (existsSync(outDir) && isRunDir(outDir)) throw new RunSetupError(`${outDir} already holds a run`, 'holds-a-run');
  if (existsSync(outDir) && readdirSync(outDir).length > 0)
    throw new RunSetupError(`${outDir} exists and is not empty; choose an empty or new directory`, 'not-empty');
}

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** A netperf control probe from the client side: one TCP_RR transaction through the data port. */
export function netperfProbe(clientPrefix: string[], signal?: AbortSignal): (endpoint: Endpoint) => Promise<boolean> {
  return async (endpoint) => {
    const argv = [
      ...clientPrefix,
      'netperf',
      '-4',
      '-H',
      endpoint.address,
      '-p',
      String(endpoint.controlPort),
      '-t',
      'TCP_RR',
      '-l',
      '-1',
      '-P',
      '0',
      '--',
      '-P',
      `,${endpoint.dataPort}`,
    ];
    const r = await runCommand(argv, { timeoutMs: 5000, signal });
    return r.exitCode === 0;
  };
}

/** The tasks the run's schedule asks for, given what it measured (precision targets add blocks). */
export function plannedKeys(plan: Plan, environments: readonly string[], measured: MeasuredValues): string[] {
  return plannedTasks(plan, scheduleSettings(plan), environments, measured).map((t) =>
    taskKey({ environment: t.environment, pointId: t.point.id, replicate: t.replicate }),
  );
}

export async function executeRun(req: RunRequest): Promise<RunSummary> {
  const now = () => new Date();
  let manifest: Manifest;
  let done: Set<string>;
  let measured: MeasuredValues = new Map();
  let runLock: Lock | null = null;
  try {
    if (req.resume) {
      if (!isRunDir(req.outDir)) loadRun(req.outDir); // throws the precise "not a run" error
      // Two processes resuming one run would append the same measurements twice.
      runLock = acquireLock(join(req.outDir, RUN_LOCK_FILE), `run directory ${req.outDir}`);
      if (runLock.tookOverFrom !== null)
        req.onEvent({
          kind: 'notice',
          message: `the run was last written by PID ${runLock.tookOverFrom}, which is gone (killed?); continuing it`,
        });
      const loaded = loadRun(req.outDir);
      manifest = loaded.manifest;
      // One run is one pair's: measurements of two pairs' machines in one run would be compared as one.
      if (req.runnerPair != null && req.runnerPair !== manifest.runnerPair) {
        throw new Error(
          `the run in ${req.outDir} was measured ${manifest.runnerPair === null ? 'without a runner pair' : `by runner pair ${manifest.runnerPair}`}; it cannot be continued by runner pair ${req.runnerPair}`,
        );
      }
      // A session that never recorded its end was killed outright (SIGKILL, a crash, power loss).
      manifest.sessions.forEach((earlier, i) => {
        if (earlier.endReason !== null) return;
        earlier.endReason = 'killed: no clean shutdown recorded (SIGKILL, crash or power loss)';
        const until = manifest.sessions[i + 1]?.startedAt ?? '\uffff';
        earlier.measuredInSession = loaded.results.records.filter(
          (r) => r.startedAt >= earlier.startedAt && r.startedAt < until,
        ).length;
      });
      const latest = latestRecords(loaded.results.records);
      done = doneTasks(latest, manifest.plan.interference.remeasureFlagged);
      measured = measuredValues(latest);
      const names = req.environments.map((e) => e.name);
      const unknown = names.filter((n) => !manifest.environments.includes(n));
      if (unknown.length > 0) manifest.environments = [...manifest.environments, ...unknown];
    } else {
      if (!req.plan) throw new RunSetupError('a new run needs a plan', 'needs-a-plan');
      checkNewRunDir(req.outDir);
      mkdirSync(req.outDir, { recursive: true });
      runLock = acquireLock(join(req.outDir, RUN_LOCK_FILE), `run directory ${req.outDir}`);
      const created = now().toISOString();
      manifest = {
        formatVersion: RESULTS_FORMAT_VERSION,
        kind: 'virtnet-run',
        runId: newRunId(now()),
        createdAt: created,
        updatedAt: created,
        status: 'running',
        git: await gitInfo(req.repoDir),
        planSource: req.planSource,
        plan: req.plan,
        environments: req.environments.map((e) => e.name),
        hosts: { client: null, server: null },
        runnerPair: req.runnerPair ?? null,
        link: req.link,
        environmentDescriptions: {},
        sessions: [],
        environmentErrors: {},
      };
      done = new Set();
    }
    return await measure(req, manifest, done, measured);
  } finally {
    runLock?.release();
  }
}

async function measure(
  req: RunRequest,
  manifest: Manifest,
  done: Set<string>,
  measured: MeasuredValues,
): Promise<RunSummary> {
  const now = () => new Date();
  const plan = manifest.plan;
  const session = {
    startedAt: now().toISOString(),
    endedAt: null as string | null,
    endReason: null as string | null,
    measuredInSession: 0,
  };
  manifest.sessions.push(session);
  manifest.status = 'running';
  const { client, server } = req.hosts;
  // A remote server is described once it has told us about itself (when its environment starts).
  if (server.kind === 'this-machine') manifest.hosts.server ??= await collectHostInfo('server');
  manifest.hosts.client ??= await collectHostInfo('client', client.prefix);
  writeManifest(req.outDir, manifest);

  const appender = new ResultsAppender(req.outDir);
  if (appender.truncatedLine !== null) {
    req.onEvent({
      kind: 'notice',
      message: `results.jsonl line ${appender.truncatedLine} was cut short (a crash mid-write): it is ignored, kept aside as results.jsonl.partial-line-${appender.truncatedLine}, and that measurement is made again`,
    });
  }
  let outcome: SweepOutcome = { measured: 0, failed: 0, descriptions: {}, environmentErrors: {}, interrupted: false };
  let endReason = 'completed';
  let summary: RunSummary | undefined;
  try {
    outcome = await runSweep(
      {
        plan,
        environments: req.environments,
        done,
        measured,
        context: {
          serverAddress: req.serverAddress,
          ports: plan.ports,
          logDir: logsDir(req.outDir),
          probe: netperfProbe(client.prefix, req.signal),
          readyTimeoutMs: req.readyTimeoutMs,
          settings: req.settings,
          log: (message) => req.onEvent({ kind: 'notice', message }),
        },
        signal: req.signal,
        netperfGraceSeconds: req.netperfGraceSeconds,
        startGraceMs: req.startGraceMs,
        probeSeconds: req.probeSeconds,
        session: manifest.sessions.length,
        onEvent: (e) => {
          if (e.kind === 'measured') session.measuredInSession++;
          req.onEvent(e);
        },
      },
      {
        netperf: (args, o) => runCommand([...client.prefix, 'netperf', ...args], o),
        append: (record) => appender.append(record),
        appendProbe: (probe) => appender.append(probe),
        now,
        sampleHost: hostSampler(req.ownPids),
        watchPath: pathWatcher({
          ownPids: req.ownPids,
          releases: req.linkReleases,
          peak:
            plan.interference.peakWindowMs === null
              ? null
              : {
                  windowMs: plan.interference.peakWindowMs,
                  pathOthersBusyPercent: plan.interference.pathOthersBusyPercent,
                },
        }),
        cpu: cpuSampler(),
      },
    );
    if (outcome.interrupted) endReason = `interrupted (${String(req.signal.reason ?? 'abort')})`;
  } catch (e) {
    endReason = `error: ${(e as Error).message}`;
    throw e;
  } finally {
    appender.close();
    Object.assign(manifest.environmentDescriptions, outcome.descriptions);
    Object.assign(manifest.environmentErrors, outcome.environmentErrors);
    for (const name of Object.keys(outcome.descriptions))
      if (!Object.hasOwn(outcome.environmentErrors, name)) delete manifest.environmentErrors[name];
    if (server.kind === 'remote') manifest.hosts.server = server.describe() ?? manifest.hosts.server;
    session.endedAt = now().toISOString();
    session.endReason = endReason;
    const loaded = loadRun(req.outDir);
    // Each environment's round-trip time over every probe of the run so far (earlier sessions too).
    for (const [name, description] of Object.entries(manifest.environmentDescriptions)) {
      const roundTrip = roundTripOf(loaded.results.probes, name);
      if (roundTrip !== null) description.roundTrip = roundTrip;
    }
    const latest = latestRecords(loaded.results.records);
    const okKeys = doneTasks(latest, plan.interference.remeasureFlagged);
    const planned = plannedKeys(plan, manifest.environments, measuredValues(latest));
    const missing = planned.filter((k) => !okKeys.has(k)).length;
    manifest.status = endReason !== 'completed' ? 'interrupted' : missing === 0 ? 'complete' : 'incomplete';
    manifest.updatedAt = now().toISOString();
    try {
      writeManifest(req.outDir, manifest);
    } catch (e) {
      // A full disk fails this too. The results are what matter and they are on disk; the old
      // manifest stays valid, so the run can still be resumed. Do not hide the error that stopped us.
      if (endReason === 'completed') throw e;
      req.onEvent({
        kind: 'notice',
        message: `${(e as Error).message}; the session end is not recorded in the manifest`,
      });
    }
    summary = {
      runDir: req.outDir,
      status: manifest.status,
      measured: outcome.measured,
      failed: outcome.failed,
      missing,
      planned: planned.length,
      outcome,
    };
  }
  return summary;
}
