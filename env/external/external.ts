// An environment served by another host: the client side of a two-runner setup. The server job
// (start-environment, `virtnet serve`) owns the environment; this driver only waits until the
// server says the wanted environment is live (through the coordinator, when there is one) and
// netserver answers, and on stop releases it so the server may tear it down.

import { askCoordinator, type CoordinatorStatus, releaseRequest } from '../../actions/lib/measure/coordinator.ts';
import type { Endpoint } from '../../actions/lib/measure/netperf.ts';
import { sleep, waitUntil } from '../../actions/lib/core/proc.ts';
import { SignOfLife } from '../../actions/lib/measure/waits.ts';
import type {
  EnvironmentContext,
  EnvironmentDriver,
  StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import { EnvironmentError } from '../../actions/lib/measure/environment.ts';

export interface ExternalOptions {
  /** The environment the server runs: records are labelled with it. */
  name: string;
  title?: string;
  /** The server's coordinator port on the context's server address; null: trust whatever answers. */
  coordinatorPort: number | null;
  /** Release the environment through the coordinator when the sweep is done with it. */
  releaseOnStop: boolean;
  /** This run's key: an environment the coordinator says serves another run is never measured. */
  runKey?: string | null;
  /** The per-run secret the coordinator asks for to release (with runKey). */
  releaseKey?: string | null;
  pollIntervalMs?: number;
  /**
   * The most the client waits for the environment in all; within it, the wait for the coordinator
   * counts ctx.readyTimeoutMs from the server's last heartbeat (waits.ts SignOfLife). Default: ctx.readyTimeoutMs.
   */
  readyLimitMs?: number;
  /** Called once the coordinator offers the wanted environment of this run (the client reached the server). */
  onLive?: () => void;
  /** Receives the server host's metadata when the coordinator offers it. */
  onServerHost?: (host: NonNullable<CoordinatorStatus['host']>) => void;
}

/** Why a coordinator status does not (yet) let us measure `wanted`, or null when it does. */
export function statusProblem(
  status: CoordinatorStatus,
  wanted: string,
  ports: { control: number; data: number },
  runKey: string | null = null,
): string | null {
  if (status.environment !== wanted) return `the server has ${status.environment} live, not ${wanted}`;
  if (runKey !== null && (status.runKey ?? null) !== runKey)
    return `the server's ${wanted} serves ${status.runKey ? `run ${status.runKey}` : 'no named run'}, not this run (${runKey})`;
  if (status.released) return `${wanted} was already released by another client`;
  if (status.endpoint.controlPort !== ports.control || status.endpoint.dataPort !== ports.data) {
    return `the server serves ports ${status.endpoint.controlPort}/${status.endpoint.dataPort} but the plan uses ${ports.control}/${ports.data}`;
  }
  return null;
}

export function externalEnvironment(options: ExternalOptions): EnvironmentDriver {
  const start = async (ctx: EnvironmentContext): Promise<StartedEnvironment> => {
    const endpoint: Endpoint = { address: ctx.serverAddress, controlPort: ctx.ports.control, dataPort: ctx.ports.data };
    let status: CoordinatorStatus | null = null;
    let lastProblem = 'no answer yet';
    const interval = options.pollIntervalMs ?? 1000;
    try {
      if (options.coordinatorPort !== null) {
        const port = options.coordinatorPort;
        const runKey = options.runKey ?? null;
        const limitMs = Math.max(options.readyLimitMs ?? ctx.readyTimeoutMs, ctx.readyTimeoutMs);
        const life = new SignOfLife(performance.now(), ctx.readyTimeoutMs, limitMs);
        for (let i = 0; i < limitMs / interval + 10; i++) {
          if (ctx.signal?.aborted) throw new Error(`aborted (${String(ctx.signal.reason)})`);
          try {
            const answer = await askCoordinator(ctx.serverAddress, port, 'status', 3000);
            if (!answer.ok) {
              lastProblem = answer.error;
              // A heartbeat of this environment for this run: the server is alive and getting there.
              if (
                answer.heartbeat &&
                answer.heartbeat.environment === options.name &&
                (runKey === null || answer.heartbeat.runKey === runKey)
              )
                life.heard(performance.now());
            } else {
              const problem = statusProblem(answer.status, options.name, ctx.ports, runKey);
              if (problem === null) {
                status = answer.status;
                // The server knows where its netserver binds the data socket (native: its own address).
                if (answer.status.endpoint.dataAddress !== undefined)
                  endpoint.dataAddress = answer.status.endpoint.dataAddress;
                if (answer.status.host) options.onServerHost?.(answer.status.host);
                options.onLive?.();
                break;
              }
              lastProblem = problem;
              if (problem.includes('already released')) throw new Error(problem);
            }
          } catch (e) {
            if ((e as Error).message.includes('already released')) throw e;
            lastProblem = (e as Error).message;
          }
          const over = life.expired(performance.now());
          if (over !== null)
            throw new Error(`server coordinator ${ctx.serverAddress}:${port} offering ${options.name}: ${over}`);
          await sleep(interval, ctx.signal);
        }
        if (status === null)
          throw new Error(
            `server coordinator ${ctx.serverAddress}:${port} offering ${options.name}: not ready after ${Math.round(limitMs / 1000)} s`,
          );
      }
      await waitUntil(
        `netserver of ${options.name} at ${ctx.serverAddress}:${ctx.ports.control}`,
        () => ctx.probe(endpoint),
        { timeoutMs: ctx.readyTimeoutMs, intervalMs: interval, signal: ctx.signal },
      );
    } catch (e) {
      throw new EnvironmentError(
        `${options.name} (served by ${ctx.serverAddress}): ${(e as Error).message}; last answer: ${lastProblem}`,
      );
    }
    let released = false;
    const stop = async () => {
      if (released || !options.releaseOnStop || options.coordinatorPort === null) return;
      released = true;
      try {
        const answer = await askCoordinator(
          ctx.serverAddress,
          options.coordinatorPort,
          releaseRequest(options.name, options.runKey ?? null, options.releaseKey ?? null),
          5000,
        );
        ctx.log(
          answer.ok
            ? `released ${options.name} on ${ctx.serverAddress}`
            : `release of ${options.name} refused: ${answer.error}`,
        );
      } catch (e) {
        ctx.log(
          `could not release ${options.name} on ${ctx.serverAddress}: ${(e as Error).message} (the server job tears it down when its wait times out)`,
        );
      }
    };
    const described = (status as CoordinatorStatus | null)?.description ?? null;
    return {
      endpoint,
      stop,
      description: described
        ? { ...described, details: { ...described.details, servedBy: ctx.serverAddress } }
        : {
            name: options.name,
            summary: `${options.name} served by ${ctx.serverAddress} (not described: no coordinator)`,
            details: { servedBy: ctx.serverAddress },
            accelerator: 'none',
            startupSeconds: null,
          },
    };
  };
  return {
    name: options.name,
    title: options.title ?? options.name,
    available: async () => ({ ok: true }),
    start,
    cleanup: async () => [],
  };
}
