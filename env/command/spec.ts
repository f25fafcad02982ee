// The `command` base: an environment the user brings as three commands (start, ready, stop), each an
// argument vector run without a shell, plus where its netserver answers. A Firecracker, Kata or
// cloud-hypervisor user writes one in a variants file, with no code. Pure: the schema, the
// placeholders the commands may carry, and their substitution.

import { z } from 'zod';
import { IPV4_ADDRESS, list, oneOf, strict, text, whole } from '../../actions/lib/core/schema.ts';

/**
 * The values a command may carry as `{{name}}` inside any argument, filled in at each start: where
 * the testbed's server side answers and on which ports (the plan's: netperf tells netserver the
 * data port and then connects to that same number), which testbed, where logs go.
 */
export const PLACEHOLDERS = {
  serverAddress: "the testbed's server address (198.18.<index>.1 on the embedded testbed)",
  controlPort: "the plan's netserver control port (netserver -p)",
  dataPort: "the plan's data port (netperf -P ,PORT): forward it to the same number",
  testbedIndex: 'the testbed index (0-63): keeps names and addresses of parallel testbeds apart',
  logDir: "the run's log directory (DIR/logs)",
  name: "the variant's name",
} as const;
export type Placeholder = keyof typeof PLACEHOLDERS;
export type PlaceholderValues = Record<Placeholder, string>;

const PLACEHOLDER_RE = /\{\{([^{}]*)\}\}/g;

/** The `{{...}}` names in `value` that are not placeholders. */
export function unknownPlaceholders(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!).filter((n) => !Object.hasOwn(PLACEHOLDERS, n));
}

/** `value` with every placeholder filled in (the schema has refused unknown ones). */
export function substitute(value: string, values: PlaceholderValues): string {
  return value.replace(PLACEHOLDER_RE, (whole, n: string) =>
    Object.hasOwn(values, n) ? values[n as Placeholder] : whole,
  );
}

const placeholderList = Object.keys(PLACEHOLDERS)
  .map((p) => `{{${p}}}`)
  .join(', ');

function argument(meaning: string) {
  return text({ max: 4096 }, meaning).superRefine((value, ctx) => {
    if (value.includes('\0')) ctx.addIssue({ code: 'custom', message: 'contains a NUL character', input: value });
    const unknown = unknownPlaceholders(value);
    if (unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `{{${unknown[0]}}} is not a placeholder: expected ${placeholderList}`,
        input: value,
      });
  });
}

/**
 * An argument vector: the program by its absolute path (no PATH lookup, no shell: what runs is
 * exactly what the file says), then its arguments.
 */
function argv(role: string) {
  return list(argument('An argument; may carry placeholders.'), { min: 1, max: 256 }, role).superRefine((args, ctx) => {
    const program = args[0];
    if (program !== undefined && !program.startsWith('/'))
      ctx.addIssue({
        code: 'custom',
        path: [0],
        message: `${JSON.stringify(program)} is not an absolute path: give the program's full path (it runs without a shell or PATH lookup)`,
        input: program,
      });
  });
}

export const commandSpecSchema = strict(
  {
    start: argv(
      'Starts the environment and stays in the foreground while it lives (like netserver -D, or firecracker --no-api --config-file FILE): the run owns it by PID and ends it on stop. Exiting before netserver answers is a failed start.',
    ),
    ready: argv(
      'Optional: run until it exits 0 (each call at most 10 s, all within the ready timeout); the environment is ready once it has and a netperf control connection from the client side succeeds.',
    ).optional(),
    stop: argv(
      'Optional: run on stop, before the start process is ended by its PID (SIGTERM, then SIGKILL): shuts a VM down, removes a tap. Not run by virtnet cleanup after a killed run, which ends the start process by its PID only.',
    ).optional(),
    stopTimeoutSeconds: whole(1, 600, 'How long the stop command may take (default 30 s).').optional(),
    netserver: strict(
      {
        address: text(
          { max: 100 },
          'Where netperf finds netserver: "server" (the testbed\'s server address, where a netserver or a port map of yours answers; the default) or an IPv4 address, which may carry {{testbedIndex}} (198.19.{{testbedIndex}}.2): the client routes to it through the server.',
        ).optional(),
        ownsAddress: z
          .boolean({ error: 'expected true or false' })
          .meta({
            description:
              "True when netserver itself holds that address (not behind a port map): netperf then binds netserver's data socket to it (-H), as for native. Default false.",
          })
          .optional(),
      },
      "Where the environment's netserver answers, on the plan's control and data ports.",
    ).optional(),
    accelerator: oneOf(
      ['none', 'kvm', 'tcg'],
      'What the environment runs under, for labels and verdicts: none (processes, containers), kvm, or tcg (software emulation: its numbers are labelled as such). Default none.',
    ).optional(),
  },
  'The commands of a command variant: argument vectors, run without a shell, with {{placeholders}}.',
);
export type CommandSpec = z.output<typeof commandSpecSchema>;

/** The address netperf connects to, from the spec and the testbed; an error naming the field when not IPv4. */
export function netserverAddress(spec: CommandSpec, values: PlaceholderValues): string {
  const given = spec.netserver?.address ?? 'server';
  if (given === 'server') return values.serverAddress;
  const address = substitute(given, values);
  if (!IPV4_ADDRESS.re.test(address))
    throw new Error(
      `command.netserver.address: ${JSON.stringify(address)} is not "server" or ${IPV4_ADDRESS.expected}`,
    );
  return address;
}

/** Problems the schema cannot see (an address that is IPv4 only once filled in), with their field paths. */
export function commandSpecProblems(spec: CommandSpec): { path: string; message: string }[] {
  const given = spec.netserver?.address;
  if (given === undefined || given === 'server') return [];
  const tried = substitute(given, {
    serverAddress: '198.18.0.1',
    controlPort: '12865',
    dataPort: '12866',
    testbedIndex: '0',
    logDir: '/',
    name: 'x',
  });
  const other = unknownPlaceholders(given).length > 0 || /\{\{(?!testbedIndex\}\})/.test(given);
  if (other || !IPV4_ADDRESS.re.test(tried))
    return [
      {
        path: 'command.netserver.address',
        message: `${JSON.stringify(given)} is not "server" or an IPv4 address (which may carry {{testbedIndex}})`,
      },
    ];
  return [];
}

/** The spec as the manifest's variant options record it: strings, every field given. */
export function recordedOptions(spec: CommandSpec): Record<string, string> {
  return {
    start: JSON.stringify(spec.start),
    ready: spec.ready ? JSON.stringify(spec.ready) : 'none',
    stop: spec.stop ? JSON.stringify(spec.stop) : 'none',
    stopTimeoutSeconds: String(spec.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS),
    netserverAddress: spec.netserver?.address ?? 'server',
    ownsAddress: String(spec.netserver?.ownsAddress ?? false),
    accelerator: spec.accelerator ?? 'none',
  };
}

export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;
/** Each call of the ready command: a check, not a wait; the ready timeout bounds them all. */
export const READY_CALL_TIMEOUT_MS = 10_000;
