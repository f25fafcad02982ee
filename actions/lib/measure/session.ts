// A run: create (or resume) a run directory, record who measured what where, sweep, and leave the
// manifest saying exactly how the session ended. Used by the CLI and by the run-sweep action.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EnvironmentDriver } from './environment.ts';
import { collectHostInfo, gitInfo } from './host-info.ts';
import type { Endpoint } from './netperf.ts';
import { expandPoints, type Plan, taskKey } from '../plan/plan.ts';
import { runCommand } from '../core/proc.ts';
import { latestRecords, type LinkDescription, type Manifest, RESULTS_FORMAT_VERSION } from './records.ts';
import { isRunDir, loadRun, logsDir, ResultsAppender, RUN_LOCK_FILE, writeManifest } from './run-dir.ts';
import { acquireLock, type Lock } from '../core/lock.ts';
import { runSweep, type SweepEvent, type SweepOutcome } from './sweep.ts';

export interface RunRequest {
  outDir: string;
  /** A new run needs the plan; a resumed run takes it from its manifest. */
  plan: Plan | null;
  planSource: string;
  resume: boolean;
  environments: readonly EnvironmentDriver[];
  serverAddress: string;
  /** argv prefix that runs a command on the client (e.g. ip netns exec NS), [] when we are the client. */
  clientPrefix: string[];
  link: LinkDescription;
  settings: Record<string, string>;
  readyTimeoutMs: number;
  /** Extra seconds beyond the test length before a netperf call is deemed hung and killed (default 20). */
  netperfGraceSeconds?: number;
  /** Extra time beyond readyTimeoutMs before the sweep gives up on a start() that never returns (default: readyTimeoutMs + 5 min). */
  startGraceMs?: number;
  repoDir: string;
  signal: AbortSignal;
  onEvent: (event: SweepEvent | { kind: 'notice'; message: string }) => void;
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
}

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** A netperf control probe from the client side: one TCP_RR transaction through the data port. */
export function netperfProbe(clientPrefix: string[], signal?: AbortSignal): (endpoint: Endpoint) => Promise<boolean> {
  return async (endpoint) => {
    const argv = [...clientPrefix, 'netperf', '-4', '-H', endpoint.address, '-p', String(endpoint.controlPort), '-t', 'TCP_RR', '-l', '-1', '-P', '0', '--', '-P', `,${endpoint.dataPort}`];
    const r = await runCommand(argv, { timeoutMs: 5000, signal });
    return r.exitCode === 0;
  };
}

function plannedKeys(plan: Plan, environments: readonly string[]): string[] {
  const points = expandPoints(plan);
  const keys: string[] = [];
  for (const environment of environments)
    for (const p of points) for (let replicate = 1; replicate <= plan.replicates; replicate++) keys.push(taskKey({ environment, pointId: p.id, replicate }));
  return keys;
}

export async function executeRun(req: RunRequest): Promise<RunSummary> {
  const now = () => new Date();
  let manifest: Manifest;
  let done: Set<string>;
  let runLock: Lock | null = null;
  try {
    if (req.resume) {
      if (!isRunDir(req.outDir)) loadRun(req.outDir); // throws the precise "not a run" error
      // Two processes resuming one run would append the same measurements twice.
      runLock = acquireLock(join(req.outDir, RUN_LOCK_FILE), `run directory ${req.outDir}`);
      if (runLock.tookOverFrom !== null) req.onEvent({ kind: 'notice', message: `the run was last written by PID ${runLock.tookOverFrom}, which is gone (killed?); continuing it` });
      const loaded = loadRun(req.outDir);
      manifest = loaded.manifest;
      // A session that never recorded its end was killed outright (SIGKILL, a crash, power loss).
      manifest.sessions.forEach((earlier, i) => {
        if (earlier.endReason !== null) return;
        earlier.endReason = 'killed: no clean shutdown recorded (SIGKILL, crash or power loss)';
        const until = manifest.sessions[i + 1]?.startedAt ?? '\uffff';
        earlier.measuredInSession = loaded.results.records.filter((r) => r.startedAt >= earlier.startedAt && r.startedAt < until).length;
      });
      done = new Set(latestRecords(loaded.results.records).filter((r) => r.status === 'ok').map((r) => taskKey(r)));
      const names = req.environments.map((e) => e.name);
      const unknown = names.filter((n) => !manifest.environments.includes(n));
      if (unknown.length > 0) manifest.environments = [...manifest.environments, ...unknown];
    } else {
      if (!req.plan) throw new RunSetupError('a new run needs a plan');
      if (existsSync(req.outDir) && isRunDir(req.outDir)) {
        throw new RunSetupError(`${req.outDir} already holds a run; continue it with --resume ${req.outDir}, or choose another --out`);
      }
      if (existsSync(req.outDir) && readdirSync(req.outDir).length > 0) {
        throw new RunSetupError(`${req.outDir} exists and is not empty; choose an empty or new --out directory`);
      }
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
        link: req.link,
        environmentDescriptions: {},
        sessions: [],
        environmentErrors: {},
      };
      done = new Set();
    }
    return await measure(req, manifest, done);
  } finally {
    runLock?.release();
  }
}

async function measure(req: RunRequest, manifest: Manifest, done: Set<string>): Promise<RunSummary> {
  const now = () => new Date();
  const plan = manifest.plan;
  const session = { startedAt: now().toISOString(), endedAt: null as string | null, endReason: null as string | null, measuredInSession: 0 };
  manifest.sessions.push(session);
  manifest.status = 'running';
  manifest.hosts.server ??= await collectHostInfo('server');
  manifest.hosts.client ??= await collectHostInfo('client', req.clientPrefix);
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
        context: {
          serverAddress: req.serverAddress,
          ports: plan.ports,
          logDir: logsDir(req.outDir),
          probe: netperfProbe(req.clientPrefix, req.signal),
          readyTimeoutMs: req.readyTimeoutMs,
          settings: req.settings,
          log: (message) => req.onEvent({ kind: 'notice', message }),
        },
        signal: req.signal,
        netperfGraceSeconds: req.netperfGraceSeconds,
        startGraceMs: req.startGraceMs,
        onEvent: (e) => {
          if (e.kind === 'measured') session.measuredInSession++;
          req.onEvent(e);
        },
      },
      {
        netperf: (args, o) => runCommand([...req.clientPrefix, 'netperf', ...args], o),
        append: (record) => appender.append(record),
        now,
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
    for (const name of Object.keys(outcome.descriptions)) if (!Object.hasOwn(outcome.environmentErrors, name)) delete manifest.environmentErrors[name];
    session.endedAt = now().toISOString();
    session.endReason = endReason;
    const loaded = loadRun(req.outDir);
    const okKeys = new Set(latestRecords(loaded.results.records).filter((r) => r.status === 'ok').map((r) => taskKey(r)));
    const planned = plannedKeys(plan, manifest.environments);
    const missing = planned.filter((k) => !okKeys.has(k)).length;
    manifest.status = endReason !== 'completed' ? 'interrupted' : missing === 0 ? 'complete' : 'incomplete';
    manifest.updatedAt = now().toISOString();
    try {
      writeManifest(req.outDir, manifest);
    } catch (e) {
      // A full disk fails this too. The results are what matter and they are on disk; the old
      // manifest stays valid, so the run can still be resumed. Do not hide the error that stopped us.
      if (endReason === 'completed') throw e;
      req.onEvent({ kind: 'notice', message: `${(e as Error).message}; the session end is not recorded in the manifest` });
    }
    summary = { runDir: req.outDir, status: manifest.status, measured: outcome.measured, failed: outcome.failed, missing, planned: planned.length, outcome };
  }
  return summary;
}
