// The serve protocol of the runner pair, in one place: how `virtnet serve` is started (its options,
// their defaults and limits, the argv the start-environment action builds), the endpoint file it
// writes once the environment answers, the marker it leaves when the client released the
// environment, and the coordinator's messages between the client and the server. Pure: every file
// and message is parsed here through a zod schema (worded by core/schema.ts; the environment and
// host descriptions are the manifest's own schemas, records.ts); reading and writing are at the edges
// (the start-environment action's serve-process.ts, scripts/cli/serve.ts, coordinator.ts).

import { join } from 'node:path';
import { z } from 'zod';
import { InputError, quoted, wholeNumber } from '../core/input.ts';
import { flag, isoTime, parseJson, parseOrThrow, strict, text, whole } from '../core/schema.ts';
import { acceleratorRequest, type AcceleratorRequest } from './environment.ts';
import { environmentDescriptionSchema, hostInfoSchema } from './records.ts';

// ---- errors -----------------------------------------------------------------------------------

export class ServeProtocolError extends Error {
  override name = 'ServeProtocolError';
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  return parseOrThrow(schema, value, what, (message) => new ServeProtocolError(message));
}

// ---- starting `virtnet serve` -----------------------------------------------------------------

/** What `virtnet serve` is started with. */
export interface ServeRequest {
  environment: string;
  /** null: the testbed's server address for testbedIndex (the CLI knows the testbed layout). */
  serverAddress: string | null;
  testbedIndex: number;
  controlPort: number;
  dataPort: number;
  /** 0: no coordinator. */
  coordinatorPort: number;
  readyTimeoutSeconds: number;
  holdTimeoutMinutes: number;
  accelerator: AcceleratorRequest;
  osvImage: string | null;
  endpointFile: string;
  /** Where the environment keeps its logs; absent or null: beside the endpoint file. */
  logDir?: string | null;
  /** The run the environment serves (the coordinator tells clients); absent or null: any. */
  runKey?: string | null;
}

/** The defaults of `virtnet serve`, which the start-environment action's inputs share. */
export const SERVE_DEFAULTS = {
  testbedIndex: 0,
  controlPort: 12865,
  dataPort: 12866,
  coordinatorPort: 12867,
  readyTimeoutSeconds: 300,
  holdTimeoutMinutes: 360,
  accelerator: 'auto',
} as const satisfies Partial<ServeRequest>;

export const SERVE_LIMITS = {
  testbedIndex: { min: 0, max: 63 },
  port: { min: 1, max: 65535 },
  coordinatorPort: { min: 0, max: 65535 },
  readyTimeoutSeconds: { min: 1, max: 3600 },
  holdTimeoutMinutes: { min: 1, max: 24 * 60 },
} as const;

/** The options of `virtnet serve` (node:util parseArgs form), one per ServeRequest field. */
export const SERVE_OPTIONS = {
  env: { type: 'string' },
  index: { type: 'string' },
  server: { type: 'string' },
  'endpoint-file': { type: 'string' },
  'control-port': { type: 'string' },
  'data-port': { type: 'string' },
  'coordinator-port': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'hold-timeout': { type: 'string' },
  'osv-image': { type: 'string' },
  accel: { type: 'string' },
  'log-dir': { type: 'string' },
  'run-key': { type: 'string' },
} as const;

/** The release key comes through the environment, not argv: /proc/<pid>/cmdline is world-readable. */
export const RELEASE_KEY_ENV = 'VIRTNET_RELEASE_KEY';

/** A workflow run's key: names the run (its directory, artifacts, the coordinator's run). */
export const RUN_KEY = /^[A-Za-z0-9._-]{1,100}$/;
/** A per-run secret: letters and digits only. */
export const RELEASE_KEY = /^[A-Za-z0-9]{16,128}$/;

export function runKeyFrom(field: string, text: string): string {
  if (!RUN_KEY.test(text))
    throw new InputError(field, `expected 1-100 letters, digits, '.', '-' or '_', got ${quoted(text)}`);
  return text;
}

/** A release key; a bad one is never quoted back (it would land in a log). */
export function releaseKeyFrom(field: string, text: string): string {
  if (!RELEASE_KEY.test(text))
    throw new InputError(field, 'expected 16-128 letters or digits (the value is not shown)');
  return text;
}

type ServeOption = keyof typeof SERVE_OPTIONS;

/** The arguments after `virtnet` that start `virtnet serve` for a request. */
export function serveArgs(request: ServeRequest): string[] {
  const options: [ServeOption, string | number | null][] = [
    ['env', request.environment],
    ['index', request.testbedIndex],
    ['server', request.serverAddress],
    ['endpoint-file', request.endpointFile],
    ['control-port', request.controlPort],
    ['data-port', request.dataPort],
    ['coordinator-port', request.coordinatorPort],
    ['ready-timeout', request.readyTimeoutSeconds],
    ['hold-timeout', request.holdTimeoutMinutes],
    ['accel', request.accelerator],
    ['osv-image', request.osvImage],
    ['log-dir', request.logDir ?? null],
    ['run-key', request.runKey ?? null],
  ];
  return ['serve', ...options.flatMap(([name, value]) => (value === null ? [] : [`--${name}`, String(value)]))];
}

/** The command that runs `virtnet serve` from a checkout with a given Node. */
export function serveArgv(request: ServeRequest, node: string, virtnetDir: string): string[] {
  return [node, join(virtnetDir, 'scripts', 'virtnet.ts'), ...serveArgs(request)];
}

/**
 * The request in parsed options (what serveArgs wrote, or what a person typed). Each bad value is
 * an InputError naming its option; the CLI words it as a flag.
 */
export function serveRequestFrom(values: Partial<Record<ServeOption, string>>): ServeRequest {
  const number = (option: ServeOption, range: { min: number; max: number }, fallback: number) => {
    const text = values[option];
    return text === undefined ? fallback : wholeNumber(option, text, range);
  };
  if (!values.env) throw new InputError('env', 'is required: the one environment to serve');
  if (!values['endpoint-file'])
    throw new InputError('endpoint-file', 'is required: where to write the endpoint once ready');
  return {
    environment: values.env,
    serverAddress: values.server ?? null,
    testbedIndex: number('index', SERVE_LIMITS.testbedIndex, SERVE_DEFAULTS.testbedIndex),
    controlPort: number('control-port', SERVE_LIMITS.port, SERVE_DEFAULTS.controlPort),
    dataPort: number('data-port', SERVE_LIMITS.port, SERVE_DEFAULTS.dataPort),
    coordinatorPort: number('coordinator-port', SERVE_LIMITS.coordinatorPort, SERVE_DEFAULTS.coordinatorPort),
    readyTimeoutSeconds: number('ready-timeout', SERVE_LIMITS.readyTimeoutSeconds, SERVE_DEFAULTS.readyTimeoutSeconds),
    holdTimeoutMinutes: number('hold-timeout', SERVE_LIMITS.holdTimeoutMinutes, SERVE_DEFAULTS.holdTimeoutMinutes),
    accelerator: values.accel === undefined ? SERVE_DEFAULTS.accelerator : acceleratorRequest('accel', values.accel),
    osvImage: values['osv-image'] ?? null,
    endpointFile: values['endpoint-file'],
    ...(values['log-dir'] !== undefined ? { logDir: values['log-dir'] } : {}),
    ...(values['run-key'] !== undefined ? { runKey: runKeyFrom('run-key', values['run-key']) } : {}),
  };
}

// ---- what the server tells: the environment, its host ------------------------------------------

const ENVIRONMENT_NAME = /^[a-z0-9-]{1,40}$/;
const environmentName = (meaning: string) =>
  text(
    { max: 40, pattern: { re: ENVIRONMENT_NAME, expected: 'an environment name: lower-case letters, digits and -' } },
    meaning,
  );
const port = (meaning: string) => whole(1, 65535, meaning);

export const endpointSchema = strict({
  address: text({ max: 255 }, 'Where the client reaches netserver (the server address, or a port map on it).'),
  controlPort: port("netserver's control port."),
  dataPort: port("netperf's data port."),
  dataAddress: text({ max: 255 }, "Where netserver binds its data socket (netperf's test-specific -H).").optional(),
});

// ---- the endpoint file ------------------------------------------------------------------------

/** What `virtnet serve` writes once the environment answers: read by the start-environment action (and by people). */
export const endpointFileSchema = strict({
  pid: whole(1, 2 ** 22, 'The serve process.'),
  environment: environmentName('The environment served.'),
  endpoint: endpointSchema,
  coordinatorPort: port('Where the coordinator listens; null: no coordinator.').nullable(),
  description: environmentDescriptionSchema,
  startedAt: isoTime(),
  holdUntil: isoTime('When serve tears the environment down by itself, should nobody stop it.'),
});

export type EndpointFile = z.infer<typeof endpointFileSchema>;

/** The endpoint file's text, as written. */
export function endpointFileText(content: EndpointFile): string {
  return `${JSON.stringify(parseWith(endpointFileSchema, content, 'invalid endpoint file'), null, 2)}\n`;
}

/** The endpoint file read back; an error names the file and every field that is wrong. */
export function parseEndpointFile(text: string, path: string): EndpointFile {
  const raw = parseJson(text, (reason) => new ServeProtocolError(`endpoint file ${path} is not JSON: ${reason}`));
  return parseWith(endpointFileSchema, raw, `invalid endpoint file ${path}`);
}

/** The marker `virtnet serve` writes beside its endpoint file when the client released the environment. */
export function releasedMarker(endpointFile: string): string {
  return `${endpointFile}.released`;
}

/** Written when a client first asks for status: the server job knows a client is there. */
export function askedMarker(endpointFile: string): string {
  return `${endpointFile}.asked`;
}

// ---- the coordinator's messages -----------------------------------------------------------------

/**
 * Requests are one line of words: `status`, or `release <environment>`, or, from a client of a
 * workflow run, `release <environment> <run key> <release key>` (the key is a per-run secret).
 */
export const MAX_REQUEST_BYTES = 256;

export type CoordinatorRequest =
  { kind: 'status' } | { kind: 'release'; environment: string; runKey?: string; releaseKey?: string };

const environmentWord = z.string().regex(ENVIRONMENT_NAME);

const requestSchema: z.ZodType<CoordinatorRequest, string> = z
  .string()
  .max(MAX_REQUEST_BYTES)
  .transform((line) => line.trim().split(/\s+/))
  .pipe(
    z.union([
      z.tuple([z.literal('status')]).transform((): CoordinatorRequest => ({ kind: 'status' })),
      z
        .tuple([z.literal('release'), environmentWord])
        .transform(([, environment]): CoordinatorRequest => ({ kind: 'release', environment })),
      z
        .tuple([z.literal('release'), environmentWord, z.string().regex(RUN_KEY), z.string().regex(RELEASE_KEY)])
        .transform(([, environment, runKey, releaseKey]): CoordinatorRequest => ({
          kind: 'release',
          environment,
          runKey,
          releaseKey,
        })),
    ]),
  );

export function parseCoordinatorRequest(line: string): CoordinatorRequest {
  const parsed = requestSchema.safeParse(line);
  if (parsed.success) return parsed.data;
  // The line is not echoed whole: it may hold a key.
  const first = line.trim().split(/\s+/)[0]?.slice(0, 20) ?? '';
  throw new ServeProtocolError(
    `coordinator: unknown request ${quoted(first)}: expected "status" or "release <environment> [<run key> <release key>]"`,
  );
}

/** The release request a client sends: with its run key and release key when it has them. */
export function releaseRequest(
  environment: string,
  runKey: string | null = null,
  releaseKey: string | null = null,
): string {
  return runKey !== null && releaseKey !== null
    ? `release ${environment} ${runKey} ${releaseKey}`
    : `release ${environment}`;
}

export const coordinatorStatusSchema = strict({
  environment: environmentName('The environment that is live.'),
  endpoint: endpointSchema,
  /** True once a client has released the environment. */
  released: flag('True once a client has released the environment.'),
  /** The server's description of the environment (versions, settings) for the client's manifest. */
  description: environmentDescriptionSchema.nullable(),
  /** The server host's metadata (CPU, kernel, sysctls): the client's manifest records it as the server. */
  host: hostInfoSchema.nullable(),
  /** The run this environment serves (the workflow's run key); absent or null: any run. */
  runKey: text({ max: 100, pattern: { re: RUN_KEY, expected: "1-100 letters, digits, '.', '-' or '_'" } })
    .nullable()
    .optional(),
});

export type CoordinatorStatus = z.infer<typeof coordinatorStatusSchema>;

/**
 * A sign of life while the environment is not ready yet: the server answers status requests from
 * the moment its job prepares the host, through the environment's boot, so that the client's ready
 * wait counts from the last heartbeat (waits.ts), not from its own start.
 */
export const heartbeatSchema = strict({
  environment: environmentName('The environment being started.'),
  runKey: text({ max: 100, pattern: { re: RUN_KEY, expected: "1-100 letters, digits, '.', '-' or '_'" } }).nullable(),
  phase: text(
    { max: 200 },
    'What the server is doing: preparing the host, starting the environment, its last log line.',
  ),
  at: isoTime('When the server answered.'),
});

export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const coordinatorResponseSchema = z.discriminatedUnion('ok', [
  strict({ ok: z.literal(true), status: coordinatorStatusSchema }),
  strict({ ok: z.literal(false), error: text({ max: 1000 }), heartbeat: heartbeatSchema.optional() }),
]);

export type CoordinatorResponse = z.infer<typeof coordinatorResponseSchema>;

/** One answer line from the server; an error names every field that is wrong. */
export function parseCoordinatorResponse(line: string, from: string): CoordinatorResponse {
  const raw = parseJson(
    line,
    () => new ServeProtocolError(`coordinator ${from}: unreadable answer ${quoted(line.slice(0, 80))}`),
  );
  return parseWith(coordinatorResponseSchema, raw, `coordinator ${from}: invalid answer`);
}
