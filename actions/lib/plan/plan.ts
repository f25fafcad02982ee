// Sweep plans: the file format, its validation, and its expansion into ordered measurements.
// Pure: no I/O. Loading a plan file from disk lives in plan-file.ts.

export const PLAN_FORMAT_VERSION = 1;
export const TESTS = ['TCP_STREAM', 'UDP_STREAM'] as const;
export type TestName = (typeof TESTS)[number];
/** The swept netperf test-specific option: `-s` (send socket size) or `-m` (message size). */
export const PARAMETERS = ['sendSocketSize', 'messageSize'] as const;
export type Parameter = (typeof PARAMETERS)[number];

/** Largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header). */
export const MAX_UDP_MESSAGE = 65507;
/** netperf refuses larger send sizes than this for TCP in practice; a sanity bound. */
export const MAX_TCP_MESSAGE = 64 * 1024 * 1024;

export interface Sweep {
  test: TestName;
  /** A label for the series, e.g. "from-100": Fig. 4 draws two TCP series. */
  series: string;
  vary: Parameter;
  from: number;
  to: number;
  step: number;
  /** Fixed `-m` when the sweep varies the socket size. */
  messageSize?: number;
  /** Fixed `-s` when the sweep varies the message size (unset: the kernel default). */
  sendSocketSize?: number;
}

export interface ConfidenceOptions {
  /** netperf -I level,width: confidence level in percent (95 or 99) and interval width in percent. */
  level: number;
  width: number;
  /** netperf -i max,min: iteration bounds (netperf allows 3..30). */
  minIterations: number;
  maxIterations: number;
}

export interface Plan {
  formatVersion: number;
  name: string;
  description: string;
  /** How the plan reads the paper where the paper is ambiguous. Free text, kept in the manifest. */
  interpretation: string[];
  testLengthSeconds: number;
  replicates: number;
  /** One unrecorded measurement per environment before the sweep (0 disables it). */
  warmupSeconds: number;
  confidence: ConfidenceOptions | null;
  order: { randomize: boolean; seed: number };
  /**
   * blocked: replicate-major, each block starting every environment in turn (rotated), so host
   * interference falls on all of them alike; environment-major: all of one environment, then the next.
   */
  design: 'blocked' | 'environment-major';
  /** After `replicates` blocks, points wider than this get further blocks up to maxReplicates; null: none. */
  precision: { halfWidthPercent: number; maxReplicates: number } | null;
  ports: { control: number; data: number };
  ipVersion: 4;
  /** Extra attempts for a failed netperf call before the point is recorded as failed. */
  retries: number;
  sweeps: Sweep[];
}

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

// ---------- validation ----------

type Json = unknown;

function describe(value: Json): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

class Checker {
  readonly problems: string[] = [];
  private readonly source: string;
  constructor(source: string) {
    this.source = source;
  }

  fail(field: string, message: string): void {
    this.problems.push(`${field}: ${message}`);
  }

  object(field: string, value: Json): Record<string, Json> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, `expected an object, got ${describe(value)}`);
      return undefined;
    }
    return value as Record<string, Json>;
  }

  integer(field: string, value: Json, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(field, `expected a whole number, got ${describe(value)}`);
      return undefined;
    }
    if (value < min || value > max) {
      this.fail(field, `${value} is out of range: expected ${min} to ${max}`);
      return undefined;
    }
    return value;
  }

  number(field: string, value: Json, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(field, `expected a number, got ${describe(value)}`);
      return undefined;
    }
    if (value < min || value > max) {
      this.fail(field, `${value} is out of range: expected ${min} to ${max}`);
      return undefined;
    }
    return value;
  }

  string(field: string, value: Json, pattern?: RegExp): string | undefined {
    if (typeof value !== 'string' || value.length === 0) {
      this.fail(field, `expected a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    if (pattern && !pattern.test(value)) {
      this.fail(field, `${describe(value)} does not match ${pattern}`);
      return undefined;
    }
    return value;
  }

  boolean(field: string, value: Json): boolean | undefined {
    if (typeof value !== 'boolean') {
      this.fail(field, `expected true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(field: string, value: Json, allowed: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `${describe(value)} is not one of ${allowed.join(', ')}`);
      return undefined;
    }
    return value as T;
  }

  unknownKeys(field: string, obj: Record<string, Json>, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.fail(`${field}${field ? '.' : ''}${key}`, `unknown field (known: ${known.join(', ')})`);
    }
  }

  finish(): void {
    if (this.problems.length > 0) {
      throw new PlanError(`invalid plan ${this.source}:\n  - ${this.problems.join('\n  - ')}`);
    }
  }
}

const PLAN_KEYS = [
  '$comment', 'formatVersion', 'name', 'description', 'interpretation', 'testLengthSeconds', 'replicates',
  'warmupSeconds', 'confidence', 'order', 'design', 'precision', 'ports', 'ipVersion', 'retries', 'sweeps',
] as const;
const SWEEP_KEYS = ['test', 'series', 'vary', 'from', 'to', 'step', 'messageSize', 'sendSocketSize'] as const;

/** Largest size any sweep may ask for: a sanity bound; the kernel limit is checked by checkPlanAgainstKernel. */
const MAX_SOCKET_SIZE = 1 << 30;

/**
 * Validates parsed JSON as a plan. Every problem is collected and reported together, each naming
 * the field path and the offending value, so a user fixes a plan file in one pass.
 */
export function validatePlan(input: Json, source = '(inline)'): Plan {
  const c = new Checker(source);
  const root = c.object('plan', input);
  if (!root) c.finish();
  const r = root as Record<string, Json>;
  c.unknownKeys('', r, PLAN_KEYS);

  const formatVersion = c.integer('formatVersion', r.formatVersion, 1, Number.MAX_SAFE_INTEGER);
  if (formatVersion !== undefined && formatVersion > PLAN_FORMAT_VERSION) {
    c.fail('formatVersion', `${formatVersion} is newer than this virtnet understands (${PLAN_FORMAT_VERSION}); upgrade virtnet`);
  }
  const name = c.string('name', r.name, /^[A-Za-z0-9._-]+$/);
  // '' is what a plan without a description validates to: accept it, so re-validating a plan (overridePlan) holds.
  const description = r.description === undefined || r.description === '' ? '' : c.string('description', r.description);
  let interpretation: string[] = [];
  if (r.interpretation !== undefined) {
    if (!Array.isArray(r.interpretation) || r.interpretation.some((s) => typeof s !== 'string')) {
      c.fail('interpretation', `expected a list of strings, got ${describe(r.interpretation)}`);
    } else interpretation = r.interpretation as string[];
  }
  const testLengthSeconds = c.integer('testLengthSeconds', r.testLengthSeconds, 1, 3600);
  const replicates = c.integer('replicates', r.replicates, 1, 1000);
  const warmupSeconds = r.warmupSeconds === undefined ? 0 : c.integer('warmupSeconds', r.warmupSeconds, 0, 3600);
  const retries = r.retries === undefined ? 2 : c.integer('retries', r.retries, 0, 10);

  let confidence: ConfidenceOptions | null = null;
  if (r.confidence !== undefined && r.confidence !== null) {
    const co = c.object('confidence', r.confidence);
    if (co) {
      c.unknownKeys('confidence', co, ['level', 'width', 'minIterations', 'maxIterations']);
      const level = c.oneOf('confidence.level', String(co.level), ['95', '99']);
      const width = c.number('confidence.width', co.width, 0.1, 100);
      const minIterations = c.integer('confidence.minIterations', co.minIterations, 3, 30);
      const maxIterations = c.integer('confidence.maxIterations', co.maxIterations, 3, 30);
      if (minIterations !== undefined && maxIterations !== undefined && minIterations > maxIterations) {
        c.fail('confidence', `minIterations ${minIterations} is above maxIterations ${maxIterations}`);
      }
      if (level && width !== undefined && minIterations !== undefined && maxIterations !== undefined) {
        confidence = { level: Number(level), width, minIterations, maxIterations };
      }
    }
  }

  let order = { randomize: true, seed: 1 };
  if (r.order !== undefined) {
    const o = c.object('order', r.order);
    if (o) {
      c.unknownKeys('order', o, ['randomize', 'seed']);
      const randomize = c.boolean('order.randomize', o.randomize);
      const seed = c.integer('order.seed', o.seed, 0, 2 ** 32 - 1);
      if (randomize !== undefined && seed !== undefined) order = { randomize, seed };
    }
  }

  let design: Plan['design'] = 'blocked';
  if (r.design !== undefined) {
    if (r.design === 'blocked' || r.design === 'environment-major') design = r.design;
    else c.fail('design', `expected "blocked" or "environment-major", got ${describe(r.design)}`);
  }
  let precision: Plan['precision'] = null;
  if (r.precision !== undefined && r.precision !== null) {
    const o = c.object('precision', r.precision);
    if (o) {
      c.unknownKeys('precision', o, ['halfWidthPercent', 'maxReplicates']);
      const half = typeof o.halfWidthPercent === 'number' && Number.isFinite(o.halfWidthPercent) && o.halfWidthPercent > 0 && o.halfWidthPercent <= 100 ? o.halfWidthPercent : undefined;
      if (half === undefined) c.fail('precision.halfWidthPercent', `expected a number above 0 and at most 100 (percent of the mean), got ${describe(o.halfWidthPercent)}`);
      const max = c.integer('precision.maxReplicates', o.maxReplicates, 1, 1000);
      if (max !== undefined && replicates !== undefined && max < replicates) c.fail('precision.maxReplicates', `${max} is below replicates (${replicates}): the target can only add blocks`);
      if (half !== undefined && max !== undefined) precision = { halfWidthPercent: half, maxReplicates: max };
    }
  }

  let ports = { control: 12865, data: 12866 };
  if (r.ports !== undefined) {
    const p = c.object('ports', r.ports);
    if (p) {
      c.unknownKeys('ports', p, ['control', 'data']);
      const control = c.integer('ports.control', p.control, 1, 65535);
      const data = c.integer('ports.data', p.data, 1, 65535);
      if (control !== undefined && control === data) c.fail('ports', `control and data port are both ${control}`);
      if (control !== undefined && data !== undefined) ports = { control, data };
    }
  }
  if (r.ipVersion !== undefined && r.ipVersion !== 4) c.fail('ipVersion', `only 4 is supported (the paper used IPv4), got ${describe(r.ipVersion)}`);

  const sweeps: Sweep[] = [];
  if (!Array.isArray(r.sweeps) || r.sweeps.length === 0) {
    c.fail('sweeps', `expected a non-empty list of sweeps, got ${describe(r.sweeps)}`);
  } else {
    r.sweeps.forEach((raw, i) => {
      const f = `sweeps[${i}]`;
      const s = c.object(f, raw);
      if (!s) return;
      c.unknownKeys(f, s, SWEEP_KEYS);
      const test = c.oneOf(`${f}.test`, s.test, TESTS);
      const series = c.string(`${f}.series`, s.series, /^[A-Za-z0-9._-]+$/);
      const vary = c.oneOf(`${f}.vary`, s.vary, PARAMETERS);
      const maxSize = vary === 'messageSize' && test === 'UDP_STREAM' ? MAX_UDP_MESSAGE : vary === 'messageSize' ? MAX_TCP_MESSAGE : MAX_SOCKET_SIZE;
      const limitNote = maxSize === MAX_UDP_MESSAGE ? ' (the largest UDP payload over IPv4)' : '';
      const sizeField = (field: string, value: Json, max: number, note: string): number | undefined => {
        if (typeof value === 'number' && Number.isInteger(value) && value > max) {
          c.fail(field, `${value} is above ${max}${note}`);
          return undefined;
        }
        if (typeof value === 'number' && Number.isInteger(value) && value <= 0) {
          c.fail(field, `${value} is not a size: expected a whole number of bytes above 0`);
          return undefined;
        }
        return c.integer(field, value, 1, max);
      };
      const from = sizeField(`${f}.from`, s.from, maxSize, limitNote);
      const to = sizeField(`${f}.to`, s.to, maxSize, limitNote);
      const step = c.integer(`${f}.step`, s.step, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      if (step !== undefined && step <= 0) {
        c.fail(`${f}.step`, `${step} never reaches the end: expected a step above 0`);
      } else if (from !== undefined && to !== undefined && step !== undefined && from > to) {
        c.fail(`${f}`, `from ${from} is above to ${to}: the step ${step} never reaches the end`);
      }
      let messageSize: number | undefined;
      let sendSocketSize: number | undefined;
      if (s.messageSize !== undefined) {
        if (vary === 'messageSize') c.fail(`${f}.messageSize`, 'is swept by this sweep (vary), so it cannot also be fixed');
        else messageSize = sizeField(`${f}.messageSize`, s.messageSize, test === 'UDP_STREAM' ? MAX_UDP_MESSAGE : MAX_TCP_MESSAGE, test === 'UDP_STREAM' ? ' (the largest UDP payload over IPv4)' : '');
      }
      if (s.sendSocketSize !== undefined) {
        if (vary === 'sendSocketSize') c.fail(`${f}.sendSocketSize`, 'is swept by this sweep (vary), so it cannot also be fixed');
        else sendSocketSize = sizeField(`${f}.sendSocketSize`, s.sendSocketSize, MAX_SOCKET_SIZE, '');
      }
      if (test && series && vary && from !== undefined && to !== undefined && step !== undefined && step > 0 && from <= to) {
        const sweep: Sweep = { test, series, vary, from, to, step };
        if (messageSize !== undefined) sweep.messageSize = messageSize;
        if (sendSocketSize !== undefined) sweep.sendSocketSize = sendSocketSize;
        sweeps.push(sweep);
      }
    });
  }
  c.finish();

  const plan: Plan = {
    formatVersion: formatVersion!,
    name: name!,
    description: description ?? '',
    interpretation,
    testLengthSeconds: testLengthSeconds!,
    replicates: replicates!,
    warmupSeconds: warmupSeconds!,
    confidence,
    order,
    design,
    precision,
    ports,
    ipVersion: 4,
    retries: retries!,
    sweeps,
  };
  // Duplicate points only show once sweeps are expanded.
  expandPoints(plan, source);
  return plan;
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

/** Every point of the plan in plan order. Two sweeps naming the same point are an error. */
export function expandPoints(plan: Plan, source = '(inline)'): Point[] {
  const points: Point[] = [];
  const seenIn = new Map<string, string>();
  const duplicates: string[] = [];
  plan.sweeps.forEach((sweep, i) => {
    for (const value of sweepValues(sweep)) {
      const id = pointId(sweep.test, sweep.vary, value);
      const here = `sweeps[${i}] (series ${sweep.series})`;
      const earlier = seenIn.get(id);
      if (earlier !== undefined) {
        duplicates.push(`${id} appears in ${earlier} and in ${here}`);
        continue;
      }
      seenIn.set(id, here);
      const point: Point = { id, test: sweep.test, series: sweep.series, parameter: sweep.vary, value };
      if (sweep.vary === 'sendSocketSize') {
        point.sendSocketSize = value;
        if (sweep.messageSize !== undefined) point.messageSize = sweep.messageSize;
      } else {
        point.messageSize = value;
        if (sweep.sendSocketSize !== undefined) point.sendSocketSize = sweep.sendSocketSize;
      }
      points.push(point);
    }
  });
  if (duplicates.length > 0) {
    throw new PlanError(`invalid plan ${source}: duplicate points:\n  - ${duplicates.join('\n  - ')}`);
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
  if (problems.length > 0) throw new PlanError(`plan ${plan.name} does not fit this kernel:\n  - ${problems.join('\n  - ')}`);
}

/** Worst-case netperf duration of one task: iterations x test length. */
export function taskSeconds(plan: Plan): number {
  return plan.testLengthSeconds * (plan.confidence ? plan.confidence.maxIterations : 1);
}

/** Estimated wall time of a plan over some environments, for the banner before a run. */
export function estimateSeconds(plan: Plan, environments: number, perTaskOverheadSeconds = 0.1, startupSeconds = 5): number {
  const tasks = expandPoints(plan).length * plan.replicates;
  const typicalTask = plan.testLengthSeconds * (plan.confidence ? plan.confidence.minIterations : 1);
  return environments * (tasks * (typicalTask + perTaskOverheadSeconds) + plan.warmupSeconds + startupSeconds);
}
