// The run's data model: the manifest and the measurement records as zod schemas (types derived
// from them), and their validation on read: every results.jsonl line and every manifest.json goes
// through these schemas, the manifest's plan through the plan schema, so nothing reaches the
// analysis or the site unchecked. Pure.

import { z } from 'zod';
import {
  describeValue,
  dictionary,
  finite,
  flag,
  formatVersionField,
  isoTime,
  jsonSyntaxReason,
  list,
  oneOf,
  parseJson,
  parseOrThrow,
  SAFE_NAME,
  strict,
  text,
  versioned,
  whole,
  type VersionedFormat,
} from '../core/schema.ts';
import { netperfMetricsSchema, RR_TESTS, rrMetricsSchema } from './netperf.ts';
import { MAX_SOCKET_SIZE, PARAMETERS, PLAN_LIMITS, planDocument, pointId, TESTS } from '../plan/plan.ts';

/** The version of the run directory's formats (manifest.json and results.jsonl) this code writes. */
export const RESULTS_FORMAT_VERSION = 1;

/**
 * results.jsonl records and manifest.json. A change of either bumps RESULTS_FORMAT_VERSION and adds
 * the upgrade of the previous version of each (core/schema.ts, VersionedFormat), so runs recorded
 * before the change still read.
 */
export const RECORD_FORMAT: VersionedFormat = { current: RESULTS_FORMAT_VERSION, upgrades: {} };
export const MANIFEST_FORMAT: VersionedFormat = { current: RESULTS_FORMAT_VERSION, upgrades: {} };

const name = (meaning: string) => text({ max: 128, pattern: SAFE_NAME }, meaning);
/**
 * Free text recorded from a machine or a program (netperf's output, an environment's error, a
 * driver's details): any length the file allows (MANIFEST_MAX_BYTES, RESULTS_MAX_BYTES), so
 * nothing this code writes is unreadable later.
 */
const recorded = (meaning: string) => text({ empty: true, max: Infinity }, meaning);
const COUNT = Number.MAX_SAFE_INTEGER;

export const hostInfoSchema = strict({
  role: oneOf(['client', 'server']),
  hostname: recorded('The host name.'),
  cpuModel: recorded('The CPU model, as /proc/cpuinfo names it.'),
  cores: whole(0, 1_000_000, 'Logical CPUs.'),
  memoryBytes: finite(0, COUNT, 'Total memory, in bytes.'),
  kernel: recorded('The kernel release.'),
  distribution: recorded('The distribution, as /etc/os-release names it.'),
  netperfVersion: recorded("netperf's version."),
  sysctls: dictionary(
    recorded('The value as read from /proc/sys.'),
    'net.core.rmem_max, wmem_max, tcp_rmem, tcp_wmem, ... as read from /proc/sys.',
  ),
  virtualizationFlags: list(
    text({ max: 64 }),
    { max: 100 },
    'Hardware virtualization flags seen on the CPU (vmx, svm): decides KVM vs TCG.',
  ),
});

export const linkSchema = strict({
  kind: oneOf(['veth-testbed', 'external']),
  shaping: recorded('Shaping as configured, e.g. "tbf rate 100mbit, stab overhead 24, gso_max_segs 1", or "none".'),
  rateMbit: finite(0, 1e7, 'The shaped rate, Mbit/s.').nullable(),
  serverAddress: text({ max: 255 }, 'Where the client reaches the server.'),
  clientAddress: text({ max: 255 }).nullable(),
  clientNamespace: text({ max: 255 }).nullable(),
  oneWayDelayMicroseconds: whole(
    0,
    10_000_000,
    "One-way delay the testbed's delay line adds in each direction, in microseconds (0: none). Absent in runs recorded before the delay line existed, which had none.",
  ).optional(),
});

export const environmentDescriptionSchema = strict({
  name: name('The environment.'),
  summary: recorded('One line for tables: "Docker 20.10.24, bridge network, image sha256:...".'),
  details: dictionary(
    recorded('A version or setting.'),
    'Versions and settings: free-form key -> value, shown in Table 3.',
  ),
  accelerator: oneOf(
    ['none', 'kvm', 'tcg'],
    'How the guest is accelerated: "none" for native and docker, "kvm" or "tcg" for QEMU guests.',
  ),
  variant: strict(
    {
      base: name('The base environment (native, docker, kvm, osv, podman) this environment is a configuration of.'),
      options: dictionary(
        recorded('A value.'),
        "The base's options as measured, every one given (defaults filled in): docker network; kvm/osv nic and vhost; podman network.",
      ),
    },
    'What the environment is, as data: its base and options (env/variants.json, or a user variants file). Absent in runs made before variants.',
  ).optional(),
  startupSeconds: finite(0, 1e6, 'Seconds until netserver answered.').nullable(),
  roundTrip: strict({
    tcpMicroseconds: finite(
      0,
      1e9,
      'Median over its TCP_RR probes of the mean round-trip time, in microseconds.',
    ).nullable(),
    udpMicroseconds: finite(
      0,
      1e9,
      'Median over its UDP_RR probes of the mean round-trip time, in microseconds.',
    ).nullable(),
    tcpProbes: whole(0, COUNT, 'TCP_RR probes that succeeded.'),
    udpProbes: whole(0, COUNT, 'UDP_RR probes that succeeded.'),
  }).optional(),
});

export const sessionSchema = strict({
  startedAt: isoTime(),
  endedAt: isoTime().nullable(),
  endReason: recorded(
    'How the session ended: completed, or the signal/error that stopped it; null while running.',
  ).nullable(),
  measuredInSession: whole(0, COUNT),
});

export const manifestSchema = strict({
  formatVersion: formatVersionField(RESULTS_FORMAT_VERSION),
  kind: z.literal('virtnet-run'),
  runId: name('The run id: a directory name in reports/runs/ and on the site.'),
  createdAt: isoTime(),
  updatedAt: isoTime(),
  status: oneOf(['running', 'complete', 'incomplete', 'interrupted']),
  git: strict({
    commit: text({ max: 64, pattern: { re: /^[0-9a-f]+$/, expected: 'a commit id in hexadecimal' } }).nullable(),
    dirty: flag().nullable(),
    branch: recorded('The branch, as git names it.').nullable(),
    subject: recorded('The commit subject.').nullable(),
  }),
  planSource: text({ max: 4096 }, 'The plan as named on the command line: a built-in name or a file name.'),
  plan: planDocument,
  environments: list(name('An environment.'), { max: 100 }),
  hosts: strict({ client: hostInfoSchema.nullable(), server: hostInfoSchema.nullable() }),
  /**
   * The runner pair that measured, by its name in the list of pairs (runners labelled
   * virtnet-server-<pair> and virtnet-client-<pair>); null on the embedded testbed, by a single
   * unnamed pair, and in runs recorded before pairs existed.
   */
  runnerPair: name('The runner pair that measured.').nullable().default(null),
  link: linkSchema.nullable(),
  environmentDescriptions: dictionary(environmentDescriptionSchema),
  /** Every start and stop of the run: more than one means it was interrupted and resumed. */
  sessions: list(sessionSchema, { max: 100_000 }),
  /** Errors that stopped an environment (it never became ready, ...): environment -> message. */
  environmentErrors: dictionary(recorded('Why the environment stopped.')),
});

const share = (meaning: string) => finite(0, 100, meaning);

/**
 * What the host did while the measurement ran (measure/interference.ts), from /proc/stat before
 * and after the netperf call and /proc/loadavg at its end. On the embedded testbed both ends share
 * the sampled host; on a runner pair it is the client's host only.
 */
export const interferenceSchema = strict(
  {
    userPercent: share("User time (with nice) as a share of the machine's CPU time over the measurement, in percent."),
    systemPercent: share("System time (with irq and softirq) as a share of the machine's CPU time, in percent."),
    iowaitPercent: share("Time idle waiting for I/O as a share of the machine's CPU time, in percent."),
    stealPercent: share(
      "Time the hypervisor gave this machine's CPUs to others, as a share of its CPU time, in percent.",
    ),
    othersBusyPercent: share(
      "CPU time the kernel charged to processes other than the run's own (netperf, netserver, the guest, the delay line, the kernel's threads), plus steal, as a share of the machine's CPU time, in percent. Records made before 2026-12-08 hold the machine's user, system and steal time less the run's own instead, which the path's softirq work charged to its own processes kept below zero.",
    ),
    loadAverage1: finite(0, 1e6, 'The 1-minute load average at the end of the measurement.'),
    cores: whole(1, 1_000_000, 'Logical CPUs of the sampled host.'),
    waitPercent: dictionary(
      finite(0, 1e6, 'Percent.'),
      "Per process on the measured path (netperf, netserver, qemu, delay-line): the time its threads together waited for a CPU, in percent of the measurement's wall time (/proc/PID/task/TID/schedstat). Absent in runs recorded before it was sampled.",
    ).optional(),
    lateReleasePercent: finite(
      0,
      100,
      "Share of the delay line's releases at least 100 us after they were due, in percent; null: no delay line, or no packet. Absent in runs recorded before it was sampled.",
    )
      .nullable()
      .optional(),
    peak: strict(
      {
        windowMs: whole(1, 60_000, 'The stretch judged, in milliseconds (plan interference.peakWindowMs).'),
        othersBusyPercent: share("Others' busy time over the worst stretch, in percent of the machine's CPU time."),
        stealPercent: share('Steal over the worst stretch, in percent of the machine CPU time.'),
        waitPercent: dictionary(
          finite(0, 1e6, 'Percent.'),
          'Per path process: its worst wait for a CPU over a stretch in which others kept more than pathOthersBusyPercent busy, in percent of that stretch.',
        ),
        pathOthersBusyPercent: share("The others' share above which a stretch's path wait counts."),
      },
      'The worst stretch within the measurement, each share on its own (measure/peaks.ts); absent where the plan sets no peakWindowMs.',
    ).optional(),
    remeasurement: whole(
      0,
      PLAN_LIMITS.remeasureFlagged + 1,
      "0: the task's measurement; n: its n-th re-measurement, taken because the one before was flagged or lay far outside its point's other replicates (remeasuredBecause).",
    ).default(0),
    flagged: flag(
      'Whether a threshold of the plan (interference) was crossed: the measurement is drawn hollow and may be re-measured.',
    ),
    reasons: list(text({ max: 200 }), { max: 10 }, 'Which thresholds were crossed, e.g. "steal 12% > 5%".'),
  },
  'What the host did while the measurement ran; absent in runs recorded before it was sampled.',
);

const cpuSeconds = (meaning: string) => finite(0, 1e7, meaning);

/**
 * The CPU the measurement cost (measure/cpu-cost.ts), from looks when netperf started and when it
 * returned: the server side of the environment (its scope), the client's netperf apart, the
 * machine's irq and softirq time beside them. On a runner pair the server's host is not sampled.
 */
export const cpuCostSchema = strict(
  {
    scope: strict(
      {
        cgroups: list(
          text({ max: 4096 }),
          { max: 100 },
          'Cgroups whose whole CPU usage counts (cgroup v1 cpuacct or v2 paths).',
        ),
        pids: list(
          whole(1, COUNT),
          { max: 100 },
          "PIDs whose threads' utime+stime count (a native netserver, a guest's QEMU).",
        ),
      },
      "What the server side of the environment ran as (StartedEnvironment.cpuScope), asked at the measurement's start.",
    ),
    wallSeconds: cpuSeconds('Wall time between the two looks: netperf from start to exit.'),
    deliveredBytes: finite(
      0,
      COUNT,
      "Bytes delivered: netperf's receiver throughput times its elapsed time (for UDP, what arrived).",
    ),
    serverSeconds: cpuSeconds(
      "CPU-seconds the scope used over the window: cgroups' usage (ns); processes' threads' run time (ns, schedstat), or their utime+stime (1/100 s steps) when a thread ended in the window; null: not readable at both ends (unreadable).",
    ).nullable(),
    serverSecondsPerGigabyte: cpuSeconds(
      'serverSeconds per 10^9 bytes delivered; null without serverSeconds or without bytes.',
    ).nullable(),
    unreadable: recorded('Why serverSeconds is null: a cgroup not readable, a process that ended.').nullable(),
    clientSeconds: cpuSeconds("CPU-seconds of the client's netperf (this process's reaped children)."),
    clientSecondsPerGigabyte: cpuSeconds('clientSeconds per 10^9 bytes delivered; null without bytes.').nullable(),
    hostSoftirqSeconds: cpuSeconds(
      "The machine's softirq time over the window, all CPUs together (/proc/stat): the packet processing of both ends, the delay line and everything else; not attributed to an environment and not added to serverSeconds.",
    ),
    hostIrqSeconds: cpuSeconds("The machine's hard irq time over the window, all CPUs together (/proc/stat)."),
    softirqInTaskTime: flag(
      "Whether the kernel charges irq and softirq time to the task it interrupted (tick accounting without CONFIG_IRQ_TIME_ACCOUNTING): then the server's share of hostSoftirqSeconds is inside serverSeconds as far as it ran in the scope's tasks; null: the kernel's configuration was not readable.",
    ).nullable(),
  },
  'What the measurement cost in CPU; absent in runs recorded before it was sampled, on a runner pair and for failed measurements.',
);

export const measurementRecordSchema = strict({
  formatVersion: formatVersionField(RESULTS_FORMAT_VERSION),
  environment: name('The environment measured.'),
  pointId: text({ max: 200 }, 'TEST:parameter=value, e.g. TCP_STREAM:sendSocketSize=100.'),
  test: oneOf(TESTS),
  series: text({ max: 64, pattern: SAFE_NAME }),
  parameter: oneOf(PARAMETERS),
  value: whole(1, MAX_SOCKET_SIZE, 'The value of the swept option, in bytes.'),
  replicate: whole(1, PLAN_LIMITS.replicates),
  status: oneOf(['ok', 'failed']),
  attempts: whole(1, PLAN_LIMITS.retries + 1),
  startedAt: isoTime(),
  finishedAt: isoTime(),
  command: list(recorded('One argument.'), { min: 1, max: 10_000 }, 'The exact netperf command.'),
  stdout: recorded("netperf's output, raw."),
  stderr: recorded("netperf's error output, raw."),
  error: recorded('Why the measurement failed.').nullable(),
  metrics: netperfMetricsSchema.nullable(),
  interference: interferenceSchema.optional(),
  cpu: cpuCostSchema.optional(),
  remeasuredBecause: list(
    text({ max: 400 }),
    { max: 10 },
    "Why the measurement before this one of the same task was taken again: the thresholds it crossed, or how far it lay outside its point's other replicates. Absent for a task's first measurement.",
  ).optional(),
}).superRefine(
  (r, ctx) => {
    const expected = pointId(r.test, r.parameter, r.value);
    if (r.pointId !== expected)
      ctx.addIssue({
        code: 'custom',
        path: ['pointId'],
        message: `${JSON.stringify(r.pointId)} does not match test, parameter and value: expected ${JSON.stringify(expected)}`,
        input: r.pointId,
      });
    if (r.status === 'ok' && r.metrics === null)
      ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'an ok record needs metrics', input: null });
    if (r.status === 'failed' && r.error === null)
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'a failed record needs its error', input: null });
  },
  { when: (payload) => payload.issues.length === 0 },
);

/**
 * A round-trip probe: a short TCP_RR or UDP_RR made each time an environment starts, so every run
 * says what latency each environment adds. Its own kind of results.jsonl line (`kind` tells them
 * apart; measurement records have none): never a sweep point, never in the curves or the counts.
 */
export const rttProbeRecordSchema = strict({
  formatVersion: formatVersionField(RESULTS_FORMAT_VERSION),
  kind: z.literal('rtt-probe'),
  environment: name('The environment probed.'),
  test: oneOf(RR_TESTS),
  session: whole(1, COUNT, 'The session (manifest.sessions, from 1) that started the environment.'),
  block: whole(1, COUNT, 'The block whose start this probe followed (null: environment-major design).').nullable(),
  status: oneOf(['ok', 'failed']),
  startedAt: isoTime(),
  finishedAt: isoTime(),
  command: list(recorded('One argument.'), { min: 1, max: 10_000 }, 'The exact netperf command.'),
  stdout: recorded("netperf's output, raw."),
  stderr: recorded("netperf's error output, raw."),
  error: recorded('Why the probe failed.').nullable(),
  metrics: rrMetricsSchema.nullable(),
}).superRefine(
  (r, ctx) => {
    if (r.status === 'ok' && r.metrics === null)
      ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'an ok probe needs metrics', input: null });
    if (r.status === 'failed' && r.error === null)
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'a failed probe needs its error', input: null });
  },
  { when: (payload) => payload.issues.length === 0 },
);

export type HostInfo = z.output<typeof hostInfoSchema>;
export type LinkDescription = z.output<typeof linkSchema>;
export type EnvironmentDescription = z.output<typeof environmentDescriptionSchema>;
export type Session = z.output<typeof sessionSchema>;
export type Manifest = z.output<typeof manifestSchema>;
export type MeasurementRecord = z.output<typeof measurementRecordSchema>;
export type RttProbeRecord = z.output<typeof rttProbeRecordSchema>;
/** Any line of results.jsonl. */
export type ResultLine = MeasurementRecord | RttProbeRecord;
export type RecordedInterference = z.output<typeof interferenceSchema>;
export type RecordedCpuCost = z.output<typeof cpuCostSchema>;

const recordDocument = versioned(measurementRecordSchema, RECORD_FORMAT);
const probeDocument = versioned(rttProbeRecordSchema, RECORD_FORMAT);
const manifestDocument = versioned(manifestSchema, MANIFEST_FORMAT);

export class RunFormatError extends Error {
  override name = 'RunFormatError';
}

const runFormatError = (message: string) => new RunFormatError(message);

/** Validates one parsed results.jsonl line; `where` names file and line for the message. */
export function validateRecord(value: unknown, where: string): MeasurementRecord {
  return parseOrThrow(recordDocument, value, where, runFormatError);
}

/** Validates one parsed results.jsonl line of any kind: a probe says `kind: "rtt-probe"`. */
export function validateResultLine(value: unknown, where: string): ResultLine {
  const isProbe = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'kind');
  return isProbe ? parseOrThrow(probeDocument, value, where, runFormatError) : validateRecord(value, where);
}

export const isProbe = (line: ResultLine): line is RttProbeRecord => 'kind' in line && line.kind === 'rtt-probe';

export interface ParsedResults {
  /** The sweep's measurements: all that curves, counts and resume look at. */
  records: MeasurementRecord[];
  /** Round-trip probes, one per RR test per environment start, in file order. */
  probes: RttProbeRecord[];
  /** A last line cut short by a crash mid-write: reported, then ignored. */
  truncatedLastLine: number | null;
}

/**
 * Parses results.jsonl. A malformed last line without a newline is a crash mid-write: it is
 * reported and skipped, since everything before it was flushed whole. A malformed line anywhere
 * else is corruption and an error naming its line number.
 */
export function parseResults(text: string, file = 'results.jsonl'): ParsedResults {
  const records: MeasurementRecord[] = [];
  const probes: RttProbeRecord[] = [];
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  let truncatedLastLine: number | null = null;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const lineNo = i + 1;
    const isLast = i === lines.length - 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      if (isLast && !endsWithNewline) {
        truncatedLastLine = lineNo;
        return;
      }
      throw new RunFormatError(`${file} line ${lineNo}: not valid JSON (${jsonSyntaxReason((e as Error).message)})`);
    }
    const valid = validateResultLine(parsed, `${file} line ${lineNo}`);
    if (isProbe(valid)) probes.push(valid);
    else records.push(valid);
  });
  return { records, probes, truncatedLastLine };
}

/** Validates a parsed manifest.json; `file` names it in messages. */
export function validateManifest(value: unknown, file = 'manifest.json'): Manifest {
  // Said first and plainly: a JSON file of another program is not a broken run.
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as Record<string, unknown>).kind !== 'virtnet-run'
  ) {
    throw new RunFormatError(
      `${file}: kind is ${describeValue((value as Record<string, unknown>).kind)}, not "virtnet-run": this is not a virtnet run`,
    );
  }
  return parseOrThrow(manifestDocument, value, file, runFormatError);
}

/** Parses and validates the text of a manifest.json (from a file or from git). */
export function parseManifest(text: string, file = 'manifest.json'): Manifest {
  return validateManifest(
    parseJson(text, (reason) => new RunFormatError(`${file}: not valid JSON (${reason})`)),
    file,
  );
}

/**
 * The latest record per (environment, point, replicate): a resumed or retried task counts once.
 * A re-measurement of a flagged point that failed does not displace the flagged measurement
 * before it (both stay in results.jsonl).
 */
export function latestRecords(records: readonly MeasurementRecord[]): MeasurementRecord[] {
  const byKey = new Map<string, MeasurementRecord>();
  for (const r of records) {
    const key = `${r.environment}|${r.pointId}|${r.replicate}`;
    if (r.status === 'failed' && (r.interference?.remeasurement ?? 0) > 0 && byKey.get(key)?.status === 'ok') continue;
    byKey.set(key, r);
  }
  return [...byKey.values()];
}
