// The serve protocol of the runner pair, in one place: how `virtnet serve` is started (its options,
// their defaults and limits, the argv the start-environment action builds), the endpoint file it
// writes once the environment answers, the marker it leaves when the client released the
// environment, and the coordinator's messages between the client and the server. Pure: every file
// and message is parsed here through a zod schema; reading and writing are at the edges
// (serve-process.ts, scripts/cli/serve.ts, coordinator.ts).

import { join } from 'node:path';
import { z } from 'zod';
import { InputError, quoted, wholeNumber } from '../core/input.ts';
import { acceleratorRequest, type AcceleratorRequest } from './environment.ts';

// ---- errors -----------------------------------------------------------------------------------

export class ServeProtocolError extends Error {
  override name = 'ServeProtocolError';
}

/** zod's issues as "field.path: what is wrong (got value)", one per line. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(the whole value)';
    const got = 'input' in issue && issue.code !== 'unrecognized_keys' ? ` (got ${JSON.stringify(issue.input)?.slice(0, 80) ?? 'nothing'})` : '';
    return `${path}: ${issue.message}${got}`;
  });
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new ServeProtocolError(`${what} is not valid:\n  - ${describeIssues(parsed.error).join('\n  - ')}`);
  return parsed.data;
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
} as const;

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
  if (!values['endpoint-file']) throw new InputError('endpoint-file', 'is required: where to write the endpoint once ready');
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
  };
}

// ---- what the server tells: the environment, its host ------------------------------------------

const ENVIRONMENT_NAME = /^[a-z0-9-]{1,40}$/;
const port = z.number().int().min(1).max(65535);

export const endpointSchema = z.object({
  address: z.string().min(1).max(255),
  controlPort: port,
  dataPort: port,
  dataAddress: z.string().min(1).max(255).optional(),
});

export const environmentDescriptionSchema = z.object({
  name: z.string().regex(ENVIRONMENT_NAME),
  summary: z.string().max(10_000),
  details: z.record(z.string(), z.string().max(100_000)),
  accelerator: z.enum(['none', 'kvm', 'tcg']),
  startupSeconds: z.number().nonnegative().nullable(),
});

export const hostInfoSchema = z.object({
  role: z.enum(['client', 'server']),
  hostname: z.string().max(1000),
  cpuModel: z.string().max(1000),
  cores: z.number().int().nonnegative(),
  memoryBytes: z.number().nonnegative(),
  kernel: z.string().max(1000),
  distribution: z.string().max(1000),
  netperfVersion: z.string().max(1000),
  sysctls: z.record(z.string(), z.string().max(10_000)),
  virtualizationFlags: z.array(z.string().max(100)),
});

// ---- the endpoint file ------------------------------------------------------------------------

/** What `virtnet serve` writes once the environment answers: read by the start-environment action (and by people). */
export const endpointFileSchema = z.object({
  pid: z.number().int().positive(),
  environment: z.string().regex(ENVIRONMENT_NAME),
  endpoint: endpointSchema,
  coordinatorPort: z.number().int().min(1).max(65535).nullable(),
  description: environmentDescriptionSchema,
  startedAt: z.iso.datetime(),
  holdUntil: z.iso.datetime(),
});

export type EndpointFile = z.infer<typeof endpointFileSchema>;

/** The endpoint file's text, as written. */
export function endpointFileText(content: EndpointFile): string {
  return `${JSON.stringify(parseWith(endpointFileSchema, content, 'endpoint file'), null, 2)}\n`;
}

/** The endpoint file read back; an error names the file and every field that is wrong. */
export function parseEndpointFile(text: string, path: string): EndpointFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ServeProtocolError(`endpoint file ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseWith(endpointFileSchema, raw, `endpoint file ${path}`);
}

/** The marker `virtnet serve` writes beside its endpoint file when the client released the environment. */
export function releasedMarker(endpointFile: string): string {
  return `${endpointFile}.released`;
}

// ---- the coordinator's messages -----------------------------------------------------------------

/** Requests are one line of words: `status`, or `release <environment>`. */
export const MAX_REQUEST_BYTES = 256;

export type CoordinatorRequest = { kind: 'status' } | { kind: 'release'; environment: string };

const requestSchema: z.ZodType<CoordinatorRequest, string> = z
  .string()
  .max(MAX_REQUEST_BYTES)
  .transform((line) => line.trim().split(/\s+/))
  .pipe(
    z.union([
      z.tuple([z.literal('status')]).transform((): CoordinatorRequest => ({ kind: 'status' })),
      z.tuple([z.literal('release'), z.string().regex(ENVIRONMENT_NAME)]).transform(([, environment]): CoordinatorRequest => ({ kind: 'release', environment })),
    ]),
  );

export function parseCoordinatorRequest(line: string): CoordinatorRequest {
  const parsed = requestSchema.safeParse(line);
  if (!parsed.success) throw new ServeProtocolError(`coordinator: unknown request ${quoted(line.slice(0, 60))}: expected "status" or "release <environment>"`);
  return parsed.data;
}

export function coordinatorRequestLine(request: CoordinatorRequest): string {
  return request.kind === 'status' ? 'status' : `release ${request.environment}`;
}

export const coordinatorStatusSchema = z.object({
  environment: z.string().regex(ENVIRONMENT_NAME),
  endpoint: endpointSchema,
  /** True once a client has released the environment. */
  released: z.boolean(),
  /** The server's description of the environment (versions, settings) for the client's manifest. */
  description: environmentDescriptionSchema.nullable(),
  /** The server host's metadata (CPU, kernel, sysctls): the client's manifest records it as the server. */
  host: hostInfoSchema.nullable(),
});

export type CoordinatorStatus = z.infer<typeof coordinatorStatusSchema>;

export const coordinatorResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), status: coordinatorStatusSchema }),
  z.object({ ok: z.literal(false), error: z.string().max(1000) }),
]);

export type CoordinatorResponse = z.infer<typeof coordinatorResponseSchema>;

/** One answer line from the server; an error names every field that is wrong. */
export function parseCoordinatorResponse(line: string, from: string): CoordinatorResponse {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new ServeProtocolError(`coordinator ${from}: unreadable answer ${quoted(line.slice(0, 80))}`);
  }
  return parseWith(coordinatorResponseSchema, raw, `coordinator ${from}: the answer`);
}
