// The coordinator: a one-line TCP protocol on the testbed link between the server job and the
// client job of one environment. The client asks which environment is live (so it never measures a
// leftover one) and, when its sweep ends, releases it (so the server can tear it down). One request
// per connection, one JSON line back; input bounded in size and time.
//
// Which run: the status names the run the environment serves (its run key), so a client of another
// run, or of another leg that GitHub mixed up (actions/runner#2475), never measures it. Who may
// release: when the server holds a release key (a per-run secret the workflow hands to both jobs),
// only `release <environment> <run key> <release key>` with that run and that key releases.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  type CoordinatorRequest,
  type CoordinatorResponse,
  type CoordinatorStatus,
  type Heartbeat,
  MAX_REQUEST_BYTES,
  parseCoordinatorRequest,
  parseCoordinatorResponse,
  releaseRequest,
} from './serve-protocol.ts';

export { parseCoordinatorRequest, releaseRequest };
export type { CoordinatorRequest, CoordinatorResponse, CoordinatorStatus, Heartbeat };

function sameSecret(a: string, b: string): boolean {
  // Hashes of equal length, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * The server's answer to one request. `release` only releases the environment that is live, of the
 * run it serves, and, when the server holds a release key, only for a client that presents it.
 */
export function answerRequest(
  status: CoordinatorStatus,
  request: CoordinatorRequest,
  releaseKey: string | null = null,
): CoordinatorResponse {
  if (request.kind === 'status') return { ok: true, status };
  if (request.environment !== status.environment) {
    return { ok: false, error: `cannot release ${request.environment}: the live environment is ${status.environment}` };
  }
  const runKey = status.runKey ?? null;
  if (runKey !== null && request.runKey !== undefined && request.runKey !== runKey) {
    return {
      ok: false,
      error: `cannot release ${request.environment}: it serves run ${runKey}, not run ${request.runKey}`,
    };
  }
  if (
    releaseKey !== null &&
    (request.releaseKey === undefined || request.runKey === undefined || !sameSecret(request.releaseKey, releaseKey))
  ) {
    return {
      ok: false,
      error: `cannot release ${request.environment}: ${request.releaseKey === undefined ? 'no release key given' : 'wrong release key'} (the workflow hands this run's key to its client job)`,
    };
  }
  return { ok: true, status: { ...status, released: true } };
}

/** The answer to every request while the environment is not ready: no release, a heartbeat for status. */
export function startingAnswer(request: CoordinatorRequest, heartbeat: Heartbeat): CoordinatorResponse {
  const notYet = `${heartbeat.environment} is not ready yet: ${heartbeat.phase}`;
  return request.kind === 'status'
    ? { ok: false, error: notYet, heartbeat }
    : { ok: false, error: `cannot release ${request.environment}: ${notYet}` };
}

export interface RunningCoordinator {
  server: Server;
  port: number;
  /** The environment is ready: from now on the coordinator answers with its status and accepts a release. */
  live(status: CoordinatorStatus): void;
  close(): Promise<void>;
}

/**
 * Listens on address:port; onRelease runs once, on the first valid release; onStatus on every
 * status request (the server job learns that a client is there). Started with `starting` instead
 * of a status, it answers every status request with a heartbeat (starting() says the phase) until
 * live() gives it the status.
 */
export async function startCoordinator(options: {
  address: string;
  port: number;
  status: CoordinatorStatus | null;
  starting?: () => Heartbeat;
  onRelease: () => void;
  onStatus?: () => void;
  releaseKey?: string | null;
}): Promise<RunningCoordinator> {
  let status = options.status;
  if (status === null && !options.starting)
    throw new Error('startCoordinator: a coordinator without a status needs starting() for its heartbeats');
  const handle = (socket: Socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) {
        socket.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        return;
      }
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      let response: CoordinatorResponse;
      try {
        const request = parseCoordinatorRequest(buffer.slice(0, newline));
        response =
          status === null
            ? startingAnswer(request, options.starting!())
            : answerRequest(status, request, options.releaseKey ?? null);
        if (request.kind === 'status') options.onStatus?.();
      } catch (e) {
        response = { ok: false, error: (e as Error).message };
      }
      if (response.ok && status !== null && response.status.released && !status.released) {
        status = response.status;
        options.onRelease();
      }
      socket.end(`${JSON.stringify(response)}\n`);
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    server,
    port,
    live: (ready) => {
      if (status === null) status = ready;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Releases the environment, retrying on connection errors and timeouts with the pauses given
 * (waits.ts releasePauses: doubling, bounded in all). An answer, yes or no, ends it: a refusal
 * will not change by asking again. Returns the last answer, or the last error's message.
 */
export async function releaseWithRetry(
  ask: () => Promise<CoordinatorResponse>,
  pauses: readonly number[],
  sleep: (ms: number) => Promise<void>,
  log: (line: string) => void = () => {},
): Promise<CoordinatorResponse | { error: string }> {
  let lastError = 'not tried';
  for (let attempt = 0; attempt <= pauses.length; attempt++) {
    try {
      return await ask();
    } catch (e) {
      lastError = (e as Error).message;
      if (attempt < pauses.length) {
        log(
          `release attempt ${attempt + 1} failed (${lastError}); trying again in ${Math.round(pauses[attempt]! / 1000)} s`,
        );
        await sleep(pauses[attempt]!);
      }
    }
  }
  return { error: `${lastError} (${pauses.length + 1} attempts)` };
}

/** Sends one request and returns the answer, checked against its schema; throws on connection errors, timeouts and malformed answers. */
export function askCoordinator(
  address: string,
  port: number,
  request: string,
  timeoutMs = 5000,
): Promise<CoordinatorResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: address, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`coordinator ${address}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${request}\n`));
    socket.on('data', (chunk: string) => (data += chunk.slice(0, 64 * 1024)));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`coordinator ${address}:${port}: ${e.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseCoordinatorResponse(data.split('\n')[0] ?? '', `${address}:${port}`));
      } catch (e) {
        reject(e);
      }
    });
  });
}
