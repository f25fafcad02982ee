// An environment served by another host: the client side of a two-runner setup. The server job
// (start-environment, `virtnet serve`) owns the environment; this driver only waits until the
// server says the wanted environment is live (through the coordinator, when there is one) and
// netserver answers, and on stop releases it so the server may tear it down.

import { askCoordinator, type CoordinatorStatus, releaseRequest } from '../../actions/lib/measure/coordinator.ts';
import type { Endpoint } from '../../actions/lib/measure/netperf.ts';
import { waitUntil } from '../../actions/lib/core/proc.ts';
import type { EnvironmentContext, EnvironmentDriver, StartedEnvironment } from '../../actions/lib/measure/environment.ts';
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
  /** Receives the server host's metadata when the coordinator offers it. */
  onServerHost?: (host: NonNullable<CoordinatorStatus['host']>) => void;
}

/** Why a coordinator status does not (yet) let us measure `wanted`, or null when it does. */
export function statusProblem(status: CoordinatorStatus, wanted: string, ports: { control: number; data: number }, runKey: string | null = null): string | null {
  if (status.environment !== wanted) return `the server has ${status.environment} live, not ${wanted}`;
  if (runKey !== null && (status.runKey ?? null) !== runKey) return `the server's ${wanted} serves ${status.runKey ? `run ${status.runKey}` : 'no named run'}, not this run (${runKey})`;
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
        await waitUntil(`server coordinator ${ctx.serverAddress}:${port} offering ${options.name}`, async () => {
          try {
            const answer = await askCoordinator(ctx.serverAddress, port, 'status', 3000);
            if (!answer.ok) {
              lastProblem = answer.error;
              return false;
            }
            const problem = statusProblem(answer.status, options.name, ctx.ports, options.runKey ?? null);
            if (problem) lastProblem = problem;
            else {
              status = answer.status;
              // The server knows where its netserver binds the data socket (native: its own address).
              if (answer.status.endpoint.dataAddress !== undefined) endpoint.dataAddress = answer.status.endpoint.dataAddress;
              if (answer.status.host) options.onServerHost?.(answer.status.host);
            }
            return problem === null;
          } catch (e) {
            lastProblem = (e as Error).message;
            return false;
          }
        }, { timeoutMs: ctx.readyTimeoutMs, intervalMs: interval, signal: ctx.signal, giveUp: () => (lastProblem.includes('already released') ? lastProblem : null) });
      }
      await waitUntil(`netserver of ${options.name} at ${ctx.serverAddress}:${ctx.ports.control}`, () => ctx.probe(endpoint), { timeoutMs: ctx.readyTimeoutMs, intervalMs: interval, signal: ctx.signal });
    } catch (e) {
      throw new EnvironmentError(`${options.name} (served by ${ctx.serverAddress}): ${(e as Error).message}; last answer: ${lastProblem}`);
    }
    let released = false;
    const stop = async () => {
      if (released || !options.releaseOnStop || options.coordinatorPort === null) return;
      released = true;
      try {
        const answer = await askCoordinator(ctx.serverAddress, options.coordinatorPort, releaseRequest(options.name, options.runKey ?? null, options.releaseKey ?? null), 5000);
        ctx.log(answer.ok ? `released ${options.name} on ${ctx.serverAddress}` : `release of ${options.name} refused: ${answer.error}`);
      } catch (e) {
        ctx.log(`could not release ${options.name} on ${ctx.serverAddress}: ${(e as Error).message} (the server job tears it down when its wait times out)`);
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
