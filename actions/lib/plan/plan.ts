// Sweep plans: the file format (a zod schema: every field with its range and meaning), and the
// expansion of a plan into ordered measurements. Pure: no I/O. Loading a plan file from disk
// lives in plan-file.ts; env/plans/plan.schema.json is generated from planSchema for editors.

import { z } from 'zod';
import {
  describeValue,
  finite,
  flag,
  SAFE_NAME,
  formatVersionField,
  list,
  oneOf,
  parseOrThrow,
  strict,
  text,
  versioned,
  whole,
  type VersionedFormat,
} from '../core/schema.ts';

export const TESTS = ['TCP_STREAM', 'UDP_STREAM'] as const;
export type TestName = (typeof TESTS)[number];
/**
 * The swept netperf test-specific option: `-s` (send socket size), `-m` (message size), or `-r`
 * (request size: UDP_STREAM sends datagrams of that size whatever `-m` says, as the paper ran it).
 */
export const PARAMETERS = ['sendSocketSize', 'messageSize', 'requestSize'] as const;
export type Parameter = (typeof PARAMETERS)[number];
/** Each parameter's netperf option, as the command line and every table write it. */
export const PARAMETER_FLAG: Readonly<Record<Parameter, string>> = {
  sendSocketSize: '-s',
  messageSize: '-m',
  requestSize: '-r',
};
/** The option of a parameter named in a record or diff; an unknown name is returned as it is. */
export function parameterFlag(parameter: string): string {
  return Object.hasOwn(PARAMETER_FLAG, parameter) ? PARAMETER_FLAG[parameter as Parameter] : parameter;
}

/** Largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header). */
export const MAX_UDP_MESSAGE = 65507;
/** netperf refuses larger send sizes than this for TCP in practice; a sanity bound. */
export const MAX_TCP_MESSAGE = 64 * 1024 * 1024;
/** Largest size any sweep may ask for: a sanity bound; the kernel limit is checked by checkPlanAgainstKernel. */
export const MAX_SOCKET_SIZE = 1 << 30;

/**
 * Bounds that keep a plan (from a file, or from the manifest of a run being resumed) from running
 * away: the paper plan has 58 points, 174 measurements and 9 minutes of netperf per environment.
 */
export const PLAN_LIMITS = {
  replicates: 1000,
  testLengthSeconds: 3600,
  retries: 10,
  sweeps: 100,
  /** Points of all sweeps together, counted before they are expanded. */
  points: 10_000,
  /** Points x replicates: the tasks of one environment, all held in memory by the scheduler. */
  measurementsPerEnvironment: 100_000,
  /** Worst-case netperf time of one environment (every task at its longest): one week. */
  hoursPerEnvironment: 168,
  /** Re-measurements of a point whose measurement was flagged as disturbed. */
  remeasureFlagged: 5,
} as const;

/**
 * When a measurement counts as disturbed by the host (measure/interference.ts). Measured on this
 * project's 2-core VM, native over the 100 Mbit/s testbed: a quiet measurement (TCP at line rate)
 * had user 1.5-5% and system 8-24% (with the link's softirq) of the machine; netperf + netserver +
 * the CLI themselves used 4-10% (UDP with 18 B messages, CPU-bound: 50-80%), and others 1.5-9.7%.
 * With two busy loops per core others reached 82-88%; another program's test run beside it, 26-69%.
 * So others above 50% (one core's worth) is a disturbance a quiet run never shows. No steal was
 * seen (a VM of its own). The load average is recorded but flags nothing by default: it counts the
 * run's own threads (a TCG guest keeps about two runnable) and lags a minute, so in the committed
 * four-environment reproduction it alone flagged 46 osv and 1 docker measurements while other
 * processes kept at most 21% busy. Set maxLoadPerCore to flag on the load others add.
 */
export const INTERFERENCE_DEFAULTS = {
  maxStealPercent: 5,
  maxOthersBusyPercent: 50,
  maxLoadPerCore: null,
  maxWaitPercent: null,
  maxLateReleasePercent: null,
  pathOthersBusyPercent: 15,
  peakWindowMs: null,
  maxPeakOthersBusyPercent: null,
  remeasureFlagged: 0,
  retakeQuietSeconds: 0,
} as const;

/**
 * The plan file format; a change bumps `current` and adds the upgrade of the previous version
 * (core/schema.ts, VersionedFormat), so plans kept in old run manifests still read.
 * 2: `design` (blocked by default) and `precision`; a version-1 plan ran environment-major, unless
 * it names a design itself: that is honoured (and checked like any other), not silently replaced.
 */
export const PLAN_FORMAT: VersionedFormat = {
  current: 2,
  upgrades: { 1: (plan) => (plan.design === undefined ? { ...plan, design: 'environment-major' } : plan) },
};
export const PLAN_FORMAT_VERSION = PLAN_FORMAT.current;

/** A size in bytes: positive, whole, within the sanity bound (tighter limits per test are checked on the sweep). */
function size(meaning: string) {
  return z
    .number({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
    .int({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
    .min(1, { error: (iss) => `${describeValue(iss.input)} is not a size: expected a whole number of bytes above 0` })
    .max(MAX_SOCKET_SIZE, { error: (iss) => `${describeValue(iss.input)} is above ${MAX_SOCKET_SIZE}` })
    .meta({ description: meaning });
}

/** The largest value a size may take in a sweep of this test, and why. */
function sizeLimit(test: TestName, option: Parameter): { max: number; note: string } {
  if (option === 'sendSocketSize') return { max: MAX_SOCKET_SIZE, note: '' };
  if (option === 'requestSize') return { max: MAX_UDP_MESSAGE, note: ' (the largest UDP payload over IPv4)' };
  return test === 'UDP_STREAM'
    ? { max: MAX_UDP_MESSAGE, note: ' (the largest UDP payload over IPv4)' }
    : { max: MAX_TCP_MESSAGE, note: '' };
}

const isIn = <T>(values: readonly T[], v: unknown): v is T => values.includes(v as T);
const isSize = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SOCKET_SIZE;

export const sweepSchema = strict(
  {
    test: oneOf(TESTS, 'The netperf test (-t).'),
    series: text(
      { max: 64, pattern: SAFE_NAME },
      'A label for the series, e.g. "from-100" (Fig. 4 draws two TCP series); part of chart file names.',
    ),
    vary: oneOf(
      PARAMETERS,
      'The swept test-specific option: sendSocketSize (-s), messageSize (-m) or requestSize (-r, UDP_STREAM only: the datagram size).',
    ),
    from: size('The first value of the swept option, in bytes.'),
    to: size('The last value: the sweep visits from, from+step, ... up to and including to when it lands on it.'),
    step: z
      .number({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
      .int({ error: (iss) => `expected a whole number, got ${describeValue(iss.input)}` })
      .min(1, { error: (iss) => `${describeValue(iss.input)} never reaches the end: expected a step above 0` })
      .max(MAX_SOCKET_SIZE, { error: (iss) => `${describeValue(iss.input)} is above ${MAX_SOCKET_SIZE}` })
      .meta({ description: 'The distance between two values of the sweep, in bytes (at least 1).' }),
    messageSize: size("Fixed -m when the sweep varies the socket size (unset: netperf's default).").optional(),
    sendSocketSize: size('Fixed -s when the sweep varies the message size (unset: the kernel default).').optional(),
    requestSize: size(
      'Fixed -r (UDP_STREAM: the size of each datagram sent) when the sweep varies another option.',
    ).optional(),
    remoteSocketSize: size(
      "Fixed -S: netserver's send and receive socket buffers (unset: the server's defaults, with receive-buffer autotuning).",
    ).optional(),
  },
  'One series of points: a netperf test with one option swept over a range.',
)
  .meta({
    // For editors: the per-test limits the check below enforces.
    allOf: [
      ...(['UDP_STREAM', 'TCP_STREAM'] as const).flatMap((test) => {
        const { max } = sizeLimit(test, 'messageSize');
        return [
          {
            if: { properties: { test: { const: test }, vary: { const: 'messageSize' } }, required: ['test', 'vary'] },
            then: { properties: { from: { maximum: max }, to: { maximum: max } } },
          },
          {
            if: { properties: { test: { const: test } }, required: ['test'] },
            then: { properties: { messageSize: { maximum: max } } },
          },
        ];
      }),
      ...PARAMETERS.map((vary) => ({
        if: { properties: { vary: { const: vary } }, required: ['vary'] },
        then: { not: { required: [vary] } },
      })),
    ],
  })
  .superRefine(
    (s, ctx) => {
      // Runs beside the field checks (so every problem is reported at once): each rule only looks
      // at fields that are valid on their own.
      const test = isIn(TESTS, s.test) ? s.test : undefined;
      const vary = isIn(PARAMETERS, s.vary) ? s.vary : undefined;
      if (test === 'TCP_STREAM' && (vary === 'requestSize' || s.requestSize !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [vary === 'requestSize' ? 'vary' : 'requestSize'],
          message: 'requestSize (-r) is a UDP_STREAM option: TCP_STREAM sweeps sendSocketSize or messageSize',
          input: vary === 'requestSize' ? vary : s.requestSize,
        });
      }
      if (test && vary) {
        const { max, note } = sizeLimit(test, vary);
        for (const field of ['from', 'to'] as const) {
          const v = s[field];
          if (isSize(v) && v > max)
            ctx.addIssue({ code: 'custom', path: [field], message: `${v} is above ${max}${note}`, input: v });
        }
      }
      for (const field of PARAMETERS) {
        const v = s[field];
        if (v === undefined) continue;
        if (vary === field) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: 'is swept by this sweep (vary), so it cannot also be fixed',
            input: v,
          });
          continue;
        }
        if (!test || !isSize(v)) continue;
        const { max, note } = sizeLimit(test, field);
        if (v > max) ctx.addIssue({ code: 'custom', path: [field], message: `${v} is above ${max}${note}`, input: v });
      }
      if (isSize(s.from) && isSize(s.to) && Number.isInteger(s.step) && s.step >= 1 && s.from > s.to) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `from ${s.from} is above to ${s.to}: the step ${s.step} never reaches the end`,
          input: s,
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
  );

export const confidenceSchema = strict(
  {
    level: oneOf([95, 99], 'netperf -I level,width: the confidence level, in percent.'),
    width: finite(0.1, 100, 'netperf -I level,width: the width of the confidence interval, in percent of the mean.'),
    minIterations: whole(3, 30, 'netperf -i max,min: the fewest iterations of a test (netperf allows 3 to 30).'),
    maxIterations: whole(
      3,
      30,
      'netperf -i max,min: the most iterations of a test, when the interval is not reached sooner.',
    ),
  },
  "netperf's own confidence intervals: each measurement iterates until the interval is narrow enough.",
).superRefine((c, ctx) => {
  if (c.minIterations > c.maxIterations) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `minIterations ${c.minIterations} is above maxIterations ${c.maxIterations}`,
      input: c,
    });
  }
});

const portsSchema = strict(
  {
    control: whole(1, 65535, "netserver's control port (netperf -p)."),
    data: whole(1, 65535, 'The data port of the test connection (netperf -- -P ,PORT).'),
  },
  'The ports netperf and netserver use.',
).superRefine((p, ctx) => {
  if (p.control === p.data)
    ctx.addIssue({ code: 'custom', path: [], message: `control and data port are both ${p.control}`, input: p });
});

/** The plan as written in a file (env/plans/*.json) and in a run's manifest. */
export const planSchema = strict(
  {
    $schema: text(
      { max: 1000 },
      'The JSON Schema of plan files, for editors (./plan.schema.json); not part of the plan.',
    ).optional(),
    $comment: text({ empty: true }, 'A remark for readers of the file; not part of the plan.').optional(),
    formatVersion: formatVersionField(PLAN_FORMAT.current),
    name: text(
      { max: 64, pattern: SAFE_NAME },
      "The plan's name, shown in reports and part of default run directory names.",
    ),
    description: text({ empty: true }, 'What the plan measures, in a sentence or two.').default(''),
    interpretation: list(
      text(),
      { max: 100 },
      'How the plan reads the paper where the paper is ambiguous. Free text, kept in the manifest.',
    ).default([]),
    testLengthSeconds: whole(1, PLAN_LIMITS.testLengthSeconds, 'The length of one netperf test (-l), in seconds.'),
    replicates: whole(1, PLAN_LIMITS.replicates, 'How many times each point is measured, in separate rounds.'),
    warmupSeconds: whole(
      0,
      3600,
      'One unrecorded measurement per environment before the sweep, in seconds (0 disables it).',
    ).default(0),
    confidence: confidenceSchema.nullable().default(null),
    order: strict(
      {
        randomize: flag(
          'Shuffle the points within each replicate (drift then spreads over the curve instead of tilting it).',
        ),
        seed: whole(0, 2 ** 32 - 1, 'The seed of the shuffle, so the order is reproduced exactly.'),
      },
      'The order points run in.',
    ).default({ randomize: true, seed: 1 }),
    design: oneOf(
      ['blocked', 'environment-major'] as const,
      'blocked: replicate-major; each block starts every environment in turn (in a balanced Williams order: each environment in each position equally often over the blocks) and measures every point once in a fresh seeded order, so host interference falls on all environments alike. environment-major: all replicates of one environment, then the next.',
    ).default('blocked'),
    precision: strict(
      {
        halfWidthPercent: finite(
          0.01,
          100,
          "The 95% interval's half-width, in percent of the point's mean, that ends measuring a point.",
        ),
        maxReplicates: whole(1, PLAN_LIMITS.replicates, 'The most blocks (replicates) a point may get.'),
        budgetMinutes: finite(
          0,
          PLAN_LIMITS.hoursPerEnvironment * 60,
          'The most netperf time the blocks beyond `replicates` may add per environment, in minutes (the widest points first); null: no limit.',
        )
          .nullable()
          .default(null),
      },
      'Precision targets: after `replicates` blocks, only points still wider than the target (in any environment: every environment measures them, so comparisons stay paired) get further blocks, up to maxReplicates and within budgetMinutes (blocked design only).',
    )
      .nullable()
      .default(null),
    interference: strict(
      {
        maxStealPercent: finite(
          0,
          100,
          "Flag a measurement when the hypervisor stole more than this share of the machine's CPU time while it ran, in percent.",
        ).default(INTERFERENCE_DEFAULTS.maxStealPercent),
        maxOthersBusyPercent: finite(
          0,
          100,
          "Flag a measurement when processes other than the run's own (netperf, netserver, the guest, the delay line) kept more than this share of the machine's CPU time busy while it ran, in percent (50 on 2 cores: one core's worth).",
        ).default(INTERFERENCE_DEFAULTS.maxOthersBusyPercent),
        maxLoadPerCore: finite(
          0,
          1000,
          "Flag a measurement when the 1-minute load average at its end, less the CPUs the run's own processes kept busy during it, per logical CPU, is above this; null (the default): recorded, never flagged (the load average lags a minute and counts the run's own threads).",
        )
          .nullable()
          .default(INTERFERENCE_DEFAULTS.maxLoadPerCore),
        maxWaitPercent: finite(
          0,
          100_000,
          "Flag a measurement when a process on the measured path (netperf, netserver on the host or in the container, a guest's QEMU threads, the delay line) waited for a CPU longer than this share of the measurement's wall time, its threads summed (/proc/PID/task/TID/schedstat), in percent; null: recorded, never flagged.",
        )
          .nullable()
          .default(INTERFERENCE_DEFAULTS.maxWaitPercent),
        maxLateReleasePercent: finite(
          0,
          100,
          "Flag a measurement when the testbed's delay line released more than this share of its packets at least 100 us after they were due, in percent; null: recorded, never flagged.",
        )
          .nullable()
          .default(INTERFERENCE_DEFAULTS.maxLateReleasePercent),
        pathOthersBusyPercent: finite(
          0,
          100,
          "maxWaitPercent and maxLateReleasePercent flag only while processes other than the run's own kept more than this share of the machine busy, in percent: a path that contends only with itself (UDP with small datagrams keeps netperf, netserver and the delay line busy on both cores) is not disturbed.",
        ).default(INTERFERENCE_DEFAULTS.pathOthersBusyPercent),
        peakWindowMs: whole(
          100,
          60_000,
          "Also judge every stretch of this many milliseconds within a measurement by the same thresholds (steal, others' busy time, the path's wait while others kept more than pathOthersBusyPercent busy), from looks taken every 200 ms: a disturbance that covers part of a measurement is diluted in its whole. null: only the whole measurement is judged.",
        )
          .nullable()
          .default(INTERFERENCE_DEFAULTS.peakWindowMs),
        maxPeakOthersBusyPercent: finite(
          0,
          100,
          "Flag a measurement when others kept more than this share of the machine busy over one stretch of peakWindowMs, in percent; null: maxOthersBusyPercent, as for the whole. A stretch is shorter than the measurement, so a lower bar for it still means seconds of another program's CPU time: 10% of 2 cores over 500 ms is 100 ms.",
        )
          .nullable()
          .default(INTERFERENCE_DEFAULTS.maxPeakOthersBusyPercent),
        remeasureFlagged: whole(
          0,
          PLAN_LIMITS.remeasureFlagged,
          'Extra attempts at a point whose measurement was flagged; every record is kept, the latest counts.',
        ).default(INTERFERENCE_DEFAULTS.remeasureFlagged),
        retakeQuietSeconds: finite(
          0,
          3600,
          "Before taking a flagged measurement again, wait up to this many seconds for a quiet look at the host (peakWindowMs long, else 500 ms): others' busy time at most maxOthersBusyPercent and steal at most maxStealPercent. A disturbance lasts seconds to minutes, so a retake that does not wait mostly falls into the same one; 0: no wait.",
        ).default(INTERFERENCE_DEFAULTS.retakeQuietSeconds),
      },
      "What the host did while each measurement ran (CPU steal, busy time of other processes, load average) is recorded with it; these thresholds flag a measurement as disturbed. On a runner pair only the client's host is sampled.",
    ).default(INTERFERENCE_DEFAULTS),
    ports: portsSchema.default({ control: 12865, data: 12866 }),
    ipVersion: z
      .literal(4, { error: (iss) => `only 4 is supported (the paper used IPv4), got ${describeValue(iss.input)}` })
      .meta({ description: 'The IP version: 4, as in the paper.' })
      .default(4),
    retries: whole(
      0,
      PLAN_LIMITS.retries,
      'Extra attempts for a failed netperf call before the point is recorded as failed.',
    ).default(2),
    sweeps: list(
      sweepSchema,
      { min: 1, max: PLAN_LIMITS.sweeps },
      'The series of points to measure; no point may appear in two sweeps.',
    ),
  },
  'A virtnet sweep plan: which netperf tests to run over which sizes, how long and how often.',
)
  .superRefine(
    (plan, ctx) => {
      // Only on a plan valid field by field: the sweeps' sizes and steps are then sound to count.
      const points = plan.sweeps.reduce((n, s) => n + Math.floor((s.to - s.from) / s.step) + 1, 0);
      if (points > PLAN_LIMITS.points) {
        ctx.addIssue({
          code: 'custom',
          path: ['sweeps'],
          message: `${points} points in all, more than the ${PLAN_LIMITS.points} a plan may have: use a larger step or a narrower range`,
          input: plan.sweeps,
        });
        return;
      }
      const duplicates = duplicatePoints(plan.sweeps);
      if (duplicates.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `duplicate points:\n  - ${duplicates.join('\n  - ')}`,
          input: plan.sweeps,
        });
      if (plan.precision !== null && plan.precision.maxReplicates < plan.replicates) {
        ctx.addIssue({
          code: 'custom',
          path: ['precision', 'maxReplicates'],
          message: `${plan.precision.maxReplicates} is below replicates (${plan.replicates}): the target can only add blocks`,
          input: plan.precision.maxReplicates,
        });
        return;
      }
      if (plan.precision !== null && plan.design !== 'blocked') {
        ctx.addIssue({
          code: 'custom',
          path: ['precision'],
          message: 'precision targets add blocks: they need design "blocked"',
          input: plan.precision,
        });
        return;
      }
      const measurements = points * Math.max(plan.replicates, plan.precision?.maxReplicates ?? 0);
      if (measurements > PLAN_LIMITS.measurementsPerEnvironment) {
        ctx.addIssue({
          code: 'custom',
          path: ['replicates'],
          message: `${points} points x ${measurements / points} replicates (at most) make ${measurements} measurements per environment, more than the ${PLAN_LIMITS.measurementsPerEnvironment} allowed`,
          input: plan.replicates,
        });
        return;
      }
      const hours =
        (measurements * (1 + plan.interference.remeasureFlagged) * taskSeconds(plan) + plan.warmupSeconds) / 3600;
      if (hours > PLAN_LIMITS.hoursPerEnvironment) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `${measurements} measurements${plan.interference.remeasureFlagged > 0 ? ` (each taken up to ${1 + plan.interference.remeasureFlagged} times: interference.remeasureFlagged)` : ''} of up to ${taskSeconds(plan)} s each make up to ${Math.round(hours)} h of netperf per environment, more than the ${PLAN_LIMITS.hoursPerEnvironment} h (one week) allowed: lower replicates, testLengthSeconds, confidence.maxIterations or interference.remeasureFlagged`,
          input: plan,
        });
      }
    },
    { when: (payload) => payload.issues.length === 0 },
  )
  .transform(({ $schema: _schema, $comment: _comment, ...plan }) => plan);

export type Plan = z.output<typeof planSchema>;
export type Sweep = Plan['sweeps'][number];
export type ConfidenceOptions = NonNullable<Plan['confidence']>;
export type InterferenceThresholds = Plan['interference'];

/** A plan of any version this code reads, upgraded to the current one. */
export const planDocument = versioned(planSchema, PLAN_FORMAT);

/** One point of the matrix: a test with one value of its swept parameter. */
export interface Point {
  id: string;
  test: TestName;
  series: string;
  parameter: Parameter;
  value: number;
  /** `-s`; undefined leaves the kernel default. */
  sendSocketSize?: number;
  /** `-m` */
  messageSize?: number;
  /** `-r` (UDP_STREAM: every datagram is this size) */
  requestSize?: number;
  /** `-S`: netserver's socket buffers; undefined leaves the server's defaults (and autotuning). */
  remoteSocketSize?: number;
}

/** One netperf run to make: a point, in one environment, one replicate. */
export interface Task {
  environment: string;
  point: Point;
  replicate: number;
}

export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * Validates parsed JSON as a plan. Every problem is collected and reported together, each naming
 * the field path, the offending value and what was expected, so a user fixes a plan file in one pass.
 */
export function validatePlan(input: unknown, source = '(inline)'): Plan {
  return parseOrThrow(planDocument, input, `invalid plan ${source}`, (message) => new PlanError(message));
}

// ---------- expansion ----------

export function pointId(test: TestName, parameter: Parameter, value: number): string {
  return `${test}:${parameter}=${value}`;
}

/** The values a sweep visits: from, from+step, ... up to and including `to` when it lands on it. */
export function sweepValues(sweep: Pick<Sweep, 'from' | 'to' | 'step'>): number[] {
  const values: number[] = [];
  for (let v = sweep.from; v <= sweep.to; v += sweep.step) values.push(v);
  return values;
}

/** "ID appears in sweeps[i] (series A) and in sweeps[j] (series B)" for each point two sweeps name. */
export function duplicatePoints(sweeps: readonly Sweep[]): string[] {
  const seenIn = new Map<string, string>();
  const duplicates: string[] = [];
  sweeps.forEach((sweep, i) => {
    for (const value of sweepValues(sweep)) {
      const id = pointId(sweep.test, sweep.vary, value);
      const here = `sweeps[${i}] (series ${sweep.series})`;
      const earlier = seenIn.get(id);
      if (earlier !== undefined) duplicates.push(`${id} appears in ${earlier} and in ${here}`);
      else seenIn.set(id, here);
    }
  });
  return duplicates;
}

/** Every point of the plan in plan order. Two sweeps naming the same point are an error. */
export function expandPoints(plan: Plan, source = '(inline)'): Point[] {
  const duplicates = duplicatePoints(plan.sweeps);
  if (duplicates.length > 0) {
    throw new PlanError(`invalid plan ${source}: duplicate points:\n  - ${duplicates.join('\n  - ')}`);
  }
  const points: Point[] = [];
  for (const sweep of plan.sweeps) {
    for (const value of sweepValues(sweep)) {
      const point: Point = {
        id: pointId(sweep.test, sweep.vary, value),
        test: sweep.test,
        series: sweep.series,
        parameter: sweep.vary,
        value,
      };
      for (const option of PARAMETERS) {
        const fixed = option === sweep.vary ? value : sweep[option];
        if (fixed !== undefined) point[option] = fixed;
      }
      if (sweep.remoteSocketSize !== undefined) point.remoteSocketSize = sweep.remoteSocketSize;
      points.push(point);
    }
  }
  return points;
}

/**
 * Socket sizes beyond net.core.wmem_max are silently clamped by Linux, so a plan that asks for
 * them would measure something else than it says. Refuse it up front, quoting the limit.
 */
export function checkPlanAgainstKernel(plan: Plan, limits: { wmemMax: number }): void {
  const problems: string[] = [];
  plan.sweeps.forEach((s, i) => {
    const largest = s.vary === 'sendSocketSize' ? Math.max(...sweepValues(s)) : s.sendSocketSize;
    if (largest !== undefined && largest > limits.wmemMax) {
      problems.push(
        `sweeps[${i}] asks for a send socket size of ${largest} B, above the kernel's net.core.wmem_max = ${limits.wmemMax} B (Linux would clamp it); raise the sysctl or lower the sweep`,
      );
    }
  });
  if (problems.length > 0)
    throw new PlanError(`plan ${plan.name} does not fit this kernel:\n  - ${problems.join('\n  - ')}`);
}

/** Worst-case netperf duration of one task: iterations x test length. */
export function taskSeconds(plan: Plan): number {
  return plan.testLengthSeconds * (plan.confidence ? plan.confidence.maxIterations : 1);
}

/**
 * Estimated wall time of a plan over some environments, for the banner before a run: the plan's
 * replicates (precision targets may add blocks beyond them, up to `replicates` = their maximum).
 */
export function estimateSeconds(
  plan: Plan,
  environments: number,
  replicates = plan.replicates,
  perTaskOverheadSeconds = 0.1,
  startupSeconds = 5,
): number {
  const tasks = expandPoints(plan).length * replicates;
  const typicalTask = plan.testLengthSeconds * (plan.confidence ? plan.confidence.minIterations : 1);
  // The blocked design starts every environment once per block.
  const starts = plan.design === 'blocked' ? replicates : 1;
  return (
    environments * (tasks * (typicalTask + perTaskOverheadSeconds) + starts * (plan.warmupSeconds + startupSeconds))
  );
}
