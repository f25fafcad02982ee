// The measurement loop: for each environment in turn (exactly one live at a time), start it, run
// its tasks through netperf, append each record as it completes, stop it. Side effects come in
// through SweepIO so the loop is tested with fakes as well as with real processes.

import type { CpuScope, EnvironmentContext, EnvironmentDriver, StartedEnvironment } from './environment.ts';
import {
  type Endpoint,
  netperfArgs,
  netperfErrorText,
  NetperfOutputError,
  parseNetperfOutput,
  parseRrOutput,
  protocolOf,
  RR_TESTS,
  rrArgs,
} from './netperf.ts';
import { type Plan, type Task, taskSeconds } from '../plan/plan.ts';
import { replicateOutliers } from '../plan/outliers.ts';
import {
  blockTurns,
  type EnvironmentTurn,
  environmentMajorTurns,
  maxReplicates,
  type MeasuredValues,
  moreBlocksPossible,
  scheduleSettings,
  taskKey,
} from '../plan/schedule.ts';
import { type CommandResult, sleep } from '../core/proc.ts';
import type { EnvironmentDescription, MeasurementRecord, RttProbeRecord } from './records.ts';
import { RESULTS_FORMAT_VERSION } from './records.ts';
import { type HostSample, interferenceOf, quietLook } from './interference.ts';
import type { PathWatch } from './host-sampler.ts';
import { cpuCostOf, type CpuSampler, deliveredBytes } from './cpu-cost.ts';

export interface SweepIO {
  /** Runs netperf on the client with these arguments. */
  netperf(args: string[], options: { timeoutMs: number; signal: AbortSignal }): Promise<CommandResult>;
  /** Appends and flushes one record; throws if it cannot (the sweep then stops). */
  append(record: MeasurementRecord): void;
  /**
   * Appends and flushes one round-trip probe (a line of its own kind, never a sweep point). Without
   * it the sweep makes no probes.
   */
  appendProbe?(probe: RttProbeRecord): void;
  now(): Date;
  /**
   * Looks at the host (host-sampler.ts), just before and just after each netperf call; absent or
   * null: the record carries no interference.
   */
  sampleHost?(pathPids?: readonly number[]): HostSample | null;
  /**
   * Starts watching the measured path for one netperf call (host-sampler.ts: each process's wait
   * for a CPU, the delay line's late releases); `pathPids` are the started environment's own
   * processes beyond this one's descendants. Absent or null: no path signal is recorded.
   */
  watchPath?(pathPids: readonly number[]): Promise<PathWatch | null>;
  /**
   * Looks at the CPU time of the started environment's server side (its cpuScope), the client and
   * the machine when netperf starts and when it returns (cpu-sampler.ts). Absent, or an
   * environment without a scope: the record carries no CPU cost.
   */
  cpu?: CpuSampler;
}

export type SweepEvent =
  | { kind: 'environment-start'; environment: string; block: number | null; tasks: number; skipped: number }
  | { kind: 'environment-ready'; environment: string; description: EnvironmentDescription }
  | { kind: 'environment-failed'; environment: string; error: string }
  | { kind: 'environment-skipped'; environment: string; reason: string }
  | { kind: 'warmup'; environment: string; seconds: number }
  | { kind: 'measured'; index: number; total: number; record: MeasurementRecord; etaSeconds: number }
  | { kind: 'retry'; task: Task; attempt: number; error: string }
  | { kind: 'probe'; probe: RttProbeRecord }
  | {
      kind: 'remeasure';
      task: Task;
      remeasurement: number;
      reasons: string[];
      /** How long the retake waited for a quiet host first (awaitQuiet), and whether it found one. */
      quietWait?: { seconds: number; quiet: boolean };
    }
  | { kind: 'environment-stop'; environment: string };

export interface SweepRequest {
  plan: Plan;
  environments: readonly EnvironmentDriver[];
  /** Tasks already measured (keys from taskKey): a resumed run skips them. */
  done: ReadonlySet<string>;
  /** Throughput measured so far (a resumed run's ok records): decides which points later blocks measure. */
  measured: MeasuredValues;
  context: Omit<EnvironmentContext, 'signal'>;
  signal: AbortSignal;
  onEvent: (event: SweepEvent) => void;
  /** Extra seconds on top of the test length before a netperf call is deemed hung. */
  netperfGraceSeconds?: number;
  /** The length of one look for a quiet host before a retake (awaitQuiet); default the plan's peakWindowMs, else 500 ms. */
  quietLookMs?: number;
  /**
   * How much longer than context.readyTimeoutMs a driver's start() may take before the sweep stops
   * waiting for it (a driver stuck on a process that never answers), aborts it and moves on.
   * Default: the ready timeout again plus 5 minutes (room for image builds inside start()).
   */
  startGraceMs?: number;
  /** Seconds each round-trip probe (TCP_RR, UDP_RR) runs after an environment starts (default 2; 0: none). */
  probeSeconds?: number;
  /** The session (manifest.sessions, from 1) the probes are recorded under (default 1). */
  session?: number;
}

/** netperf's -l for a probe when the request does not say. */
export const DEFAULT_PROBE_SECONDS = 2;

/**
 * One round-trip probe against a started environment. Never throws for netperf's sake: a failed
 * probe is a record with its error, and the sweep goes on. Null when the run was interrupted.
 */
export async function probeRoundTrip(
  test: RttProbeRecord['test'],
  endpoint: Endpoint,
  where: { environment: string; session: number; block: number | null },
  seconds: number,
  io: Pick<SweepIO, 'netperf' | 'now'>,
  signal: AbortSignal,
  graceSeconds = 20,
): Promise<RttProbeRecord | null> {
  const args = rrArgs(test, endpoint, seconds);
  const startedAt = io.now().toISOString();
  const result = await io.netperf(args, { timeoutMs: (seconds + graceSeconds) * 1000, signal });
  if (signal.aborted) return null;
  const base = {
    formatVersion: RESULTS_FORMAT_VERSION,
    kind: 'rtt-probe' as const,
    ...where,
    test,
    startedAt,
    finishedAt: io.now().toISOString(),
    command: ['netperf', ...args],
    stdout: result.stdout,
    stderr: result.stderr,
  };
  if (result.timedOut || result.exitCode !== 0)
    return {
      ...base,
      status: 'failed',
      error: netperfErrorText(result.stdout, result.stderr, result.exitCode, result.timedOut),
      metrics: null,
    };
  try {
    return { ...base, status: 'ok', error: null, metrics: parseRrOutput(result.stdout, test) };
  } catch (e) {
    if (!(e instanceof NetperfOutputError)) throw e;
    return { ...base, status: 'failed', error: e.message, metrics: null };
  }
}

/**
 * Starts an environment, but never waits forever: past the deadline the start is aborted through
 * its signal and reported as an error; should it still come up later, it is stopped at once.
 */
export async function startWithDeadline(
  driver: EnvironmentDriver,
  context: Omit<EnvironmentContext, 'signal'>,
  signal: AbortSignal,
  deadlineMs: number,
  windDownMs = 10_000,
): Promise<StartedEnvironment> {
  const own = new AbortController();
  const forward = () => own.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const starting = driver.start({ ...context, signal: own.signal });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      own.abort('deadline');
      reject(
        new Error(
          `${driver.name}: did not become ready within ${deadlineMs < 10_000 ? (deadlineMs / 1000).toFixed(1) : Math.round(deadlineMs / 1000)} s; gave up waiting for it`,
        ),
      );
    }, deadlineMs);
  });
  try {
    return await Promise.race([starting, deadline]);
  } catch (e) {
    // The start may still finish (or fail) after we stopped waiting: stop whatever it brings up.
    // Give an aborted start a bounded moment to wind down, so the next environment does not find
    // its ports still taken.
    const windDown = starting.then(
      (late) => late.stop(),
      () => {},
    );
    await Promise.race([windDown, sleep(windDownMs)]);
    throw e;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}

export interface SweepOutcome {
  measured: number;
  failed: number;
  descriptions: Record<string, EnvironmentDescription>;
  environmentErrors: Record<string, string>;
  interrupted: boolean;
}

/**
 * Before a flagged measurement is taken again: looks at the host in looks of `lookMs` until one
 * finds it quiet (interference.ts, quietLook), for at most the plan's retakeQuietSeconds. A
 * disturbance lasts seconds to minutes, and when a turn has only one or two flagged tasks their
 * retakes come right after each other: without the wait, bench (j) saw a point's retakes fall into
 * the same 15 s disturbance twice over. Null when the plan asks for no wait or the host cannot be
 * looked at; the seconds waited otherwise. Bounded in looks and time; an abort ends it at once.
 */
export async function awaitQuiet(
  plan: Plan,
  io: Pick<SweepIO, 'sampleHost'>,
  pathPids: readonly number[],
  signal: AbortSignal,
  lookMs = plan.interference.peakWindowMs ?? 500,
): Promise<{ seconds: number; quiet: boolean } | null> {
  const maxMs = plan.interference.retakeQuietSeconds * 1000;
  if (maxMs <= 0 || !io.sampleHost) return null;
  const started = performance.now();
  const looks = Math.max(1, Math.ceil(maxMs / lookMs));
  let before = io.sampleHost(pathPids);
  if (before === null) return null;
  for (let i = 0; i < looks && !signal.aborted; i++) {
    await sleep(lookMs, signal);
    const after = io.sampleHost(pathPids);
    if (after === null) return null;
    const seconds = Math.round(performance.now() - started) / 1000;
    if (quietLook(before, after, plan.interference)) return { seconds, quiet: true };
    before = after;
  }
  return { seconds: Math.round(performance.now() - started) / 1000, quiet: false };
}

/** Measures one task, retrying a failed netperf call a bounded number of times. */
export async function measureTask(
  plan: Plan,
  task: Task,
  endpoint: Endpoint,
  io: SweepIO,
  signal: AbortSignal,
  onRetry: (attempt: number, error: string) => void,
  graceSeconds = 20,
  retryDelayMs = 1000,
  pathPids: readonly number[] = [],
  cpuScope: CpuScope | null = null,
): Promise<MeasurementRecord | null> {
  const args = netperfArgs(task.point, endpoint, {
    testLengthSeconds: plan.testLengthSeconds,
    confidence: plan.confidence,
  });
  const timeoutMs = (taskSeconds(plan) + graceSeconds) * 1000;
  const startedAt = io.now().toISOString();
  let last: { result: CommandResult | null; error: string } = { result: null, error: 'not run' };
  const attemptsAllowed = plan.retries + 1;
  for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
    // A short, growing pause before a retry gives a server that is restarting (a supervised
    // netserver, a container's restart policy) time to come back.
    if (attempt > 1) await sleep(retryDelayMs * (attempt - 1), signal);
    if (signal.aborted) return null;
    const before = io.sampleHost?.(pathPids) ?? null;
    const watch = (await io.watchPath?.(pathPids)) ?? null;
    // The CPU window is netperf's own: looked at just before it starts and just after it returns.
    const cpuBefore = cpuScope === null ? null : (io.cpu?.look(cpuScope) ?? null);
    let cpuAfter = null;
    let result: CommandResult;
    let path = null;
    try {
      result = await io.netperf(args, { timeoutMs, signal });
      cpuAfter = cpuBefore === null || cpuScope === null ? null : (io.cpu?.look(cpuScope) ?? null);
    } finally {
      path = watch === null ? null : await watch.stop();
    }
    // A call cut short by our own abort is not a measurement: leave the task for the resume.
    if (signal.aborted) return null;
    const after = before === null ? null : (io.sampleHost?.(pathPids) ?? null);
    const interference =
      before !== null && after !== null
        ? { ...interferenceOf(before, after, plan.interference, path), remeasurement: 0 }
        : null;
    let error: string | null = null;
    let metrics = null;
    if (result.timedOut || result.exitCode !== 0) {
      error = netperfErrorText(result.stdout, result.stderr, result.exitCode, result.timedOut);
    } else {
      try {
        metrics = parseNetperfOutput(result.stdout);
        if (metrics.protocol !== protocolOf(task.point.test))
          error = `netperf ran ${metrics.protocol}, not ${task.point.test}`;
      } catch (e) {
        if (!(e instanceof NetperfOutputError)) throw e;
        error = e.message;
      }
    }
    const base = {
      formatVersion: RESULTS_FORMAT_VERSION,
      environment: task.environment,
      pointId: task.point.id,
      test: task.point.test,
      series: task.point.series,
      parameter: task.point.parameter,
      value: task.point.value,
      replicate: task.replicate,
      attempts: attempt,
      startedAt,
      finishedAt: io.now().toISOString(),
      command: ['netperf', ...args],
      stdout: result.stdout,
      stderr: result.stderr,
      ...(interference === null ? {} : { interference }),
    };
    if (error === null && metrics !== null) {
      const cpu =
        cpuScope !== null && cpuBefore !== null && cpuAfter !== null
          ? cpuCostOf(cpuScope, cpuBefore, cpuAfter, deliveredBytes(metrics), io.cpu?.softirqInTaskTime() ?? null)
          : null;
      return { ...base, status: 'ok', error: null, metrics, ...(cpu === null ? {} : { cpu }) };
    }
    last = { result, error: error ?? 'unknown error' };
    if (attempt < attemptsAllowed) onRetry(attempt, last.error);
    else return { ...base, status: 'failed', error: last.error, metrics: null };
  }
  return null;
}

export async function runSweep(request: SweepRequest, io: SweepIO): Promise<SweepOutcome> {
  const { plan, signal, onEvent } = request;
  const outcome: SweepOutcome = { measured: 0, failed: 0, descriptions: {}, environmentErrors: {}, interrupted: false };
  const settings = scheduleSettings(plan);
  const names = request.environments.map((d) => d.name);
  const drivers = new Map(request.environments.map((d) => [d.name, d]));
  const done = new Set(request.done);
  // Values measured in this session join those of earlier sessions: later blocks are decided on both.
  const measured = new Map<string, Map<string, Map<number, number>>>();
  for (const [environment, byPoint] of request.measured)
    measured.set(environment, new Map([...byPoint].map(([id, byReplicate]) => [id, new Map(byReplicate)])));
  // An environment that cannot run, or failed to start, sits out the rest of this session (a
  // resume tries it again): one that never comes up would otherwise cost its timeout every block.
  const sittingOut = new Set<string>();
  const progress = { index: 0, total: 0, measuringSeconds: 0 };
  // Replicates re-measured as outliers in this session: each at most once.
  const outlierRedone = new Set<string>();

  const record = (r: MeasurementRecord) => {
    io.append(r);
    const key = `${r.environment}|${r.pointId}|${r.replicate}`;
    const byPoint = measured.get(r.environment) ?? new Map<string, Map<number, number>>();
    measured.set(r.environment, byPoint);
    const byReplicate = byPoint.get(r.pointId) ?? new Map<number, number>();
    byPoint.set(r.pointId, byReplicate);
    if (r.status === 'ok' && r.metrics) {
      // Done either way (a resume does not measure it again); a flagged value decides nothing.
      if (r.interference?.flagged) byReplicate.delete(r.replicate);
      else byReplicate.set(r.replicate, r.metrics.throughputMbps);
      done.add(key);
    } else byReplicate.delete(r.replicate);
  };

  // With one environment there is nothing to alternate with: its blocks follow each other, and it
  // stays live between them (on a runner pair, stopping it would release the server's environment).
  const keepLive = names.length === 1;
  let live: StartedEnvironment | null = null;
  const stopLive = async (name: string) => {
    const started = live;
    live = null;
    if (!started) return;
    try {
      await started.stop();
    } catch (e) {
      // A failed teardown must not cost the measurements of the environments after it.
      outcome.environmentErrors[name] =
        `teardown failed: ${(e as Error).message} (virtnet cleanup removes what is left)`;
    }
    onEvent({ kind: 'environment-stop', environment: name });
  };

  const runTurn = async (turn: EnvironmentTurn, skipped: number): Promise<'continue' | 'stop'> => {
    const driver = drivers.get(turn.environment)!;
    onEvent({
      kind: 'environment-start',
      environment: driver.name,
      block: turn.block,
      tasks: turn.tasks.length,
      skipped,
    });
    if (turn.tasks.length === 0) return 'continue';
    if (sittingOut.has(driver.name)) {
      progress.index += turn.tasks.length;
      return 'continue';
    }
    const availability = await driver.available(request.context.settings);
    if (!availability.ok) {
      outcome.environmentErrors[driver.name] = `not available: ${availability.reason}`;
      onEvent({ kind: 'environment-skipped', environment: driver.name, reason: availability.reason });
      sittingOut.add(driver.name);
      progress.index += turn.tasks.length;
      return 'continue';
    }
    let started: StartedEnvironment | null = live;
    try {
      if (started === null)
        try {
          // The default grace is wide: a driver may build an image or a guest before its ready timeout starts.
          const grace = request.startGraceMs ?? request.context.readyTimeoutMs + 300_000;
          started = await startWithDeadline(driver, request.context, signal, request.context.readyTimeoutMs + grace);
        } catch (e) {
          if (signal.aborted) return 'stop';
          const message = (e as Error).message;
          outcome.environmentErrors[driver.name] = message;
          onEvent({ kind: 'environment-failed', environment: driver.name, error: message });
          sittingOut.add(driver.name);
          progress.index += turn.tasks.length;
          return 'continue';
        }
      const reused = started === live;
      live = started;
      if (!reused) {
        outcome.descriptions[driver.name] = started.description;
        onEvent({ kind: 'environment-ready', environment: driver.name, description: started.description });
      }
      // A signal that came while the environment was starting: stop it (finally) and warm nothing up.
      if (signal.aborted) return 'stop';
      if (plan.warmupSeconds > 0 && !reused) {
        onEvent({ kind: 'warmup', environment: driver.name, seconds: plan.warmupSeconds });
        const warm = netperfArgs({ test: 'TCP_STREAM', messageSize: 131072 }, started.endpoint, {
          testLengthSeconds: plan.warmupSeconds,
          confidence: null,
        });
        await io.netperf(warm, { timeoutMs: (plan.warmupSeconds + 20) * 1000, signal });
      }
      // Each start is probed (a resumed run's too): the round-trip time it shows is this start's.
      const probeSeconds = request.probeSeconds ?? DEFAULT_PROBE_SECONDS;
      if (io.appendProbe && probeSeconds > 0 && !reused) {
        for (const test of RR_TESTS) {
          if (signal.aborted) return 'stop';
          const probe = await probeRoundTrip(
            test,
            started.endpoint,
            { environment: driver.name, session: request.session ?? 1, block: turn.block },
            probeSeconds,
            io,
            signal,
            request.netperfGraceSeconds,
          );
          if (probe === null) return 'stop';
          io.appendProbe(probe);
          onEvent({ kind: 'probe', probe });
        }
      }
      const env: StartedEnvironment = started;
      /** Measures a task once, records it and tells the progress line; null: stopped. */
      const measureOnce = async (task: Task, marks: Partial<MeasurementRecord> = {}, remeasurement = 0) => {
        const t0 = io.now().getTime();
        const taken = await measureTask(
          plan,
          task,
          env.endpoint,
          io,
          signal,
          (attempt, error) => onEvent({ kind: 'retry', task, attempt, error }),
          request.netperfGraceSeconds,
          undefined,
          env.pathPids?.() ?? [],
          env.cpuScope?.() ?? null,
        );
        if (taken === null) return null;
        const r: MeasurementRecord =
          remeasurement === 0
            ? taken
            : {
                ...taken,
                ...marks,
                ...(taken.interference ? { interference: { ...taken.interference, remeasurement } } : {}),
              };
        // A failed re-measurement is kept but does not displace the measurement it was to replace.
        if (r.status === 'ok') record(r);
        else io.append(r);
        if (r.status === 'ok') outcome.measured++;
        else outcome.failed++;
        if (remeasurement === 0) progress.index++;
        progress.measuringSeconds += (io.now().getTime() - t0) / 1000;
        const perTask = progress.measuringSeconds / Math.max(1, outcome.measured + outcome.failed);
        onEvent({
          kind: 'measured',
          index: progress.index,
          total: progress.total,
          record: r,
          etaSeconds: Math.round(perTask * (progress.total - progress.index)),
        });
        return r;
      };
      // A disturbed measurement is kept and taken again, a bounded number of times, the latest ok
      // one counting (latestRecords). Not at once but after the turn's other tasks, each pass
      // retaking those still flagged: a disturbance lasts seconds to minutes (another job, a steal
      // episode), so a retake right after the flagged measurement mostly falls into it as well.
      let flagged: { task: Task; record: MeasurementRecord }[] = [];
      for (const task of turn.tasks) {
        if (signal.aborted) return 'stop';
        const r = await measureOnce(task);
        if (r === null) return 'stop';
        if (r.status === 'ok' && r.interference?.flagged) flagged.push({ task, record: r });
      }
      for (let n = 1; n <= plan.interference.remeasureFlagged && flagged.length > 0; n++) {
        const still: typeof flagged = [];
        for (const { task, record: before } of flagged) {
          if (signal.aborted) return 'stop';
          const reasons = before.interference!.reasons;
          const quietWait = await awaitQuiet(plan, io, env.pathPids?.() ?? [], signal, request.quietLookMs);
          if (signal.aborted) return 'stop';
          onEvent({ kind: 'remeasure', task, remeasurement: n, reasons, ...(quietWait ? { quietWait } : {}) });
          const again = await measureOnce(task, { remeasuredBecause: reasons }, n);
          if (again === null) return 'stop';
          if (again.status === 'ok' && again.interference?.flagged) still.push({ task, record: again });
        }
        flagged = still;
      }
      // Replicate consistency, while the environment is still live: a clean replicate far outside
      // its point's others (plan/outliers.ts) is measured again, once per session, and said so. In
      // a block the precision target added, only that block's replicate: the earlier ones decided
      // which points this block measures, and must stay what decided it (a resume recomputes it).
      const redoable = (replicate: number) =>
        turn.block === null || turn.block <= settings.replicates || replicate === turn.block;
      for (const point of new Map(turn.tasks.map((t) => [t.point.id, t.point])).values()) {
        for (const outlier of replicateOutliers(measured.get(driver.name)?.get(point.id) ?? new Map()).filter((o) =>
          redoable(o.replicate),
        )) {
          const key = taskKey({ environment: driver.name, pointId: point.id, replicate: outlier.replicate });
          if (outlierRedone.has(key)) continue;
          outlierRedone.add(key);
          if (signal.aborted) return 'stop';
          const task = { environment: driver.name, point, replicate: outlier.replicate };
          onEvent({ kind: 'remeasure', task, remeasurement: 1, reasons: [outlier.reason] });
          if ((await measureOnce(task, { remeasuredBecause: [outlier.reason] }, 1)) === null) return 'stop';
        }
      }
      return signal.aborted ? 'stop' : 'continue';
    } finally {
      if (!keepLive || signal.aborted) await stopLive(driver.name);
    }
  };

  try {
    if (settings.design === 'environment-major') {
      const turns = environmentMajorTurns(plan, settings, names, done);
      const all = environmentMajorTurns(plan, settings, names, new Set());
      progress.total = turns.reduce((n, t) => n + t.tasks.length, 0);
      for (const [i, turn] of turns.entries()) {
        if (signal.aborted) break;
        if ((await runTurn(turn, all[i]!.tasks.length - turn.tasks.length)) === 'stop') break;
      }
    } else {
      // The total the progress line shows: what the plan's replicates still need; blocks added for
      // precision raise it as they are scheduled.
      for (let block = 1; block <= settings.replicates; block++)
        progress.total += blockTurns(plan, settings, names, block, done, measured).reduce(
          (n, t) => n + t.tasks.length,
          0,
        );
      let stopped = false;
      for (let block = 1; block <= maxReplicates(settings) && !stopped && !signal.aborted; block++) {
        if (!moreBlocksPossible(plan, settings, names, block, measured)) break;
        const turns = blockTurns(plan, settings, names, block, done, measured);
        if (block > settings.replicates) progress.total += turns.reduce((n, t) => n + t.tasks.length, 0);
        const everything = blockTurns(plan, settings, names, block, new Set(), measured);
        for (const turn of turns) {
          if (signal.aborted) break;
          const planned = everything.find((t) => t.environment === turn.environment)?.tasks.length ?? turn.tasks.length;
          if ((await runTurn(turn, planned - turn.tasks.length)) === 'stop') {
            stopped = true;
            break;
          }
        }
      }
    }
  } finally {
    // The one environment of a single-environment run stays live across blocks: stop it now.
    if (live) await stopLive(names[0]!);
  }
  outcome.interrupted = signal.aborted;
  return outcome;
}
