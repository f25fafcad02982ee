import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPlanAgainstKernel, expandPoints, PlanError, sweepValues, validatePlan } from './plan.ts';
import { environmentMajorTurns, scheduleSettings } from './schedule.ts';

const scheduleTasks = (plan: ReturnType<typeof validatePlan>, environment: string) =>
  environmentMajorTurns(plan, scheduleSettings(plan), [environment], new Set())[0]!.tasks;

const paper = JSON.parse(readFileSync(new URL('../../../env/plans/paper.json', import.meta.url), 'utf8'));
const quick = JSON.parse(readFileSync(new URL('../../../env/plans/quick.json', import.meta.url), 'utf8'));

function withSweep(sweep: Record<string, unknown>) {
  return {
    ...quick,
    sweeps: [{ test: 'UDP_STREAM', series: 's', vary: 'messageSize', from: 50, to: 150, step: 50, ...sweep }],
  };
}

describe('the paper plan', () => {
  const plan = validatePlan(paper, 'paper.json');
  const points = expandPoints(plan);

  it('has both TCP series of Fig. 4 and the UDP sweep of Fig. 6', () => {
    const tcp100 = points.filter((p) => p.series === 'from-100').map((p) => p.value);
    const tcp300 = points.filter((p) => p.series === 'from-300').map((p) => p.value);
    const udp = points.filter((p) => p.test === 'UDP_STREAM').map((p) => p.value);
    expect(tcp100).toEqual(Array.from({ length: 20 }, (_, i) => 100 + 1000 * i));
    expect(tcp300).toEqual(Array.from({ length: 18 }, (_, i) => 300 + 1000 * i));
    expect(udp).toEqual(Array.from({ length: 20 }, (_, i) => 50 + 100 * i));
    expect(points.filter((p) => p.test === 'TCP_STREAM').every((p) => p.messageSize === 131072)).toBe(true);
  });

  it('runs at least 3 replicates, as the paper did', () => {
    expect(plan.replicates).toBeGreaterThanOrEqual(3);
    expect(scheduleTasks(plan, 'native')).toHaveLength(58 * plan.replicates);
  });

  it("fixes TCP's receive buffer (-S) on the TCP points only, and says why", () => {
    expect(points.filter((p) => p.test === 'TCP_STREAM').every((p) => p.remoteSocketSize === 131072)).toBe(true);
    expect(points.filter((p) => p.test === 'UDP_STREAM').every((p) => p.remoteSocketSize === undefined)).toBe(true);
    expect(plan.interpretation.join(' ')).toMatch(/-S 131072[\s\S]*autotuning/);
  });

  it('writes down its reading of the UDP "request size"', () => {
    expect(plan.interpretation.join(' ')).toMatch(/-m 3100 -r N/);
    expect(plan.sweeps.find((s) => s.test === 'UDP_STREAM')).toMatchObject({ vary: 'requestSize', messageSize: 3100 });
  });
});

describe('plan validation names the field and the value', () => {
  const cases: [string, unknown, RegExp][] = [
    ['negative size', withSweep({ from: -5 }), /sweeps\[0\]\.from: -5 is not a size/],
    ['zero size', withSweep({ from: 0 }), /sweeps\[0\]\.from: 0 is not a size/],
    ['UDP above 65507', withSweep({ to: 70000 }), /sweeps\[0\]\.to: 70000 is above 65507/],
    ['zero step', withSweep({ step: 0 }), /sweeps\[0\]\.step: 0 never reaches the end/],
    ['backwards range', withSweep({ from: 500, to: 100 }), /from 500 is above to 100/],
    ['unknown test', withSweep({ test: 'TCP_RR' }), /sweeps\[0\]\.test: "TCP_RR" is not one of TCP_STREAM, UDP_STREAM/],
    ['string number', { ...quick, replicates: '3' }, /replicates: expected a whole number, got "3"/],
    ['zero replicates', { ...quick, replicates: 0 }, /replicates: 0 is out of range/],
    ['unknown field', { ...quick, replicate: 3 }, /replicate: unknown field/],
    ['newer format', { ...quick, formatVersion: 9 }, /formatVersion: 9 is newer/],
    ['not an object', [1, 2], /expected an object/],
    [
      'confidence bounds',
      { ...quick, confidence: { level: 99, width: 5, minIterations: 10, maxIterations: 3 } },
      /minIterations 10 is above maxIterations 3/,
    ],
    // Accepted before the plan was a schema:
    [
      'a string confidence level',
      { ...quick, confidence: { level: '99', width: 5, minIterations: 3, maxIterations: 10 } },
      /confidence\.level: "99" is not one of 95, 99/,
    ],
    [
      'a series that is a parent directory',
      withSweep({ series: '..' }),
      /sweeps\[0\]\.series: "\.\." does not fit: expected letters, digits, '\.', '_' or '-', starting with a letter or digit/,
    ],
    [
      'a size too large to hold',
      withSweep({ from: Infinity }),
      /sweeps\[0\]\.from: expected a whole number, got Infinity \(a number too large to hold\)/,
    ],
    ['a $schema that is not a string', { ...quick, $schema: 7 }, /\$schema: expected a non-empty string, got 7/],
    [
      'a fixed size that the sweep varies',
      withSweep({ messageSize: 100 }),
      /sweeps\[0\]\.messageSize: is swept by this sweep \(vary\), so it cannot also be fixed/,
    ],
    // Bounds that keep a plan from running away (issue 14.5):
    [
      '1e8 replicates of 999999 s',
      { ...quick, replicates: 1e8, testLengthSeconds: 999999 },
      /testLengthSeconds: 999999 is out of range: expected 1 to 3600\n {2}- replicates: 100000000 is out of range: expected 1 to 1000/,
    ],
    [
      'a billion points',
      withSweep({ test: 'TCP_STREAM', vary: 'sendSocketSize', from: 1, to: 1e9, step: 1 }),
      /sweeps: 1000000000 points in all, more than the 10000 a plan may have: use a larger step or a narrower range/,
    ],
    [
      'more measurements than a scheduler should hold',
      {
        ...quick,
        replicates: 1000,
        sweeps: [{ test: 'TCP_STREAM', series: 's', vary: 'sendSocketSize', from: 1, to: 200, step: 1 }],
      },
      /replicates: 200 points x 1000 replicates \(at most\) make 200000 measurements per environment, more than the 100000 allowed/,
    ],
    [
      'a plan that runs for a year',
      { ...quick, replicates: 1000, testLengthSeconds: 3600 },
      /8000 measurements of up to 3600 s each make up to 8000 h of netperf per environment, more than the 168 h \(one week\) allowed/,
    ],
    [
      'netperf iterations that make it run for weeks',
      {
        ...quick,
        replicates: 100,
        testLengthSeconds: 60,
        confidence: { level: 99, width: 5, minIterations: 3, maxIterations: 30 },
      },
      /800 measurements of up to 1800 s each make up to 400 h/,
    ],
    // Interference thresholds (issue 11.5):
    [
      'a steal threshold above 100%',
      { ...quick, interference: { maxStealPercent: 140 } },
      /interference\.maxStealPercent: 140 is out of range: expected 0 to 100/,
    ],
    [
      'unbounded re-measurements',
      { ...quick, interference: { remeasureFlagged: 50 } },
      /interference\.remeasureFlagged: 50 is out of range: expected 0 to 5/,
    ],
    ['an unknown threshold', { ...quick, interference: { maxLoad: 2 } }, /interference\.maxLoad: unknown field/],
    [
      're-measurements that make it run for weeks',
      { ...quick, replicates: 100, testLengthSeconds: 600, interference: { remeasureFlagged: 2 } },
      /800 measurements \(each taken up to 3 times: interference\.remeasureFlagged\) of up to 600 s each make up to 400 h/,
    ],
  ];
  it('takes the interference thresholds field by field, the rest from their defaults', () => {
    expect(validatePlan(quick).interference).toEqual({
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
    });
    expect(validatePlan({ ...quick, interference: { remeasureFlagged: 2 } }).interference).toEqual({
      maxStealPercent: 5,
      maxOthersBusyPercent: 50,
      maxLoadPerCore: null,
      maxWaitPercent: null,
      maxLateReleasePercent: null,
      pathOthersBusyPercent: 15,
      peakWindowMs: null,
      maxPeakOthersBusyPercent: null,
      remeasureFlagged: 2,
      retakeQuietSeconds: 0,
    });
  });
  it.each(cases)('%s', (_, input, message) => {
    expect(() => validatePlan(input, 'test.json')).toThrow(PlanError);
    expect(() => validatePlan(input, 'test.json')).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      validatePlan({ ...quick, replicates: -1, testLengthSeconds: 'x' }, 'both.json');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/replicates/);
      expect((e as Error).message).toMatch(/testLengthSeconds/);
      expect((e as Error).message).toMatch(/both\.json/);
    }
  });

  it('reports problems of one sweep together with those of its fields', () => {
    expect(() => validatePlan(withSweep({ from: 'x', to: 70000, step: 0 }), 'f.json')).toThrow(
      'invalid plan f.json:\n  - sweeps[0].from: expected a whole number, got "x"\n  - sweeps[0].step: 0 never reaches the end: expected a step above 0\n  - sweeps[0].to: 70000 is above 65507 (the largest UDP payload over IPv4)',
    );
  });

  it('accepts a $schema for editors and keeps it out of the plan', () => {
    const plan = validatePlan({ ...quick, $schema: './plan.schema.json' });
    expect(plan).not.toHaveProperty('$schema');
    expect(plan).not.toHaveProperty('$comment');
    expect(validatePlan(plan)).toEqual(plan);
  });

  it('fills what a plan leaves out with the documented defaults', () => {
    const { formatVersion, name, testLengthSeconds, replicates, sweeps } = quick;
    expect(validatePlan({ formatVersion, name, testLengthSeconds, replicates, sweeps })).toMatchObject({
      description: '',
      interpretation: [],
      warmupSeconds: 0,
      confidence: null,
      order: { randomize: true, seed: 1 },
      ports: { control: 12865, data: 12866 },
      ipVersion: 4,
      retries: 2,
    });
  });

  it('refuses a remote socket size that is not a size, naming the field', () => {
    expect(() => validatePlan(withSweep({ remoteSocketSize: 0 }), 'r.json')).toThrow(
      /sweeps\[0\]\.remoteSocketSize: 0 is not a size/,
    );
    expect(() => validatePlan(withSweep({ remoteSocketSize: 'big' }), 'r.json')).toThrow(
      /sweeps\[0\]\.remoteSocketSize: expected a whole number, got "big"/,
    );
  });

  it('refuses duplicate points across sweeps', () => {
    const dup = { ...quick, sweeps: [quick.sweeps[0], { ...quick.sweeps[0], series: 'again' }] };
    expect(() => validatePlan(dup)).toThrow(
      /duplicate points:[\s\S]*TCP_STREAM:sendSocketSize=100 appears in sweeps\[0\] \(series from-100\) and in sweeps\[1\] \(series again\)/,
    );
  });

  it('refuses socket sizes the kernel would clamp, quoting the limit', () => {
    const plan = validatePlan({ ...quick, sweeps: [{ ...quick.sweeps[0], to: 300000 }] });
    expect(() => checkPlanAgainstKernel(plan, { wmemMax: 212992 })).toThrow(
      /296100 B, above the kernel's net.core.wmem_max = 212992 B/,
    );
    expect(() => checkPlanAgainstKernel(validatePlan(paper), { wmemMax: 212992 })).not.toThrow();
  });
});

describe('ordering within one environment (environment-major turns)', () => {
  const plan = validatePlan(paper);
  it('is reproducible from the seed and differs between seeds', () => {
    const a = scheduleTasks(plan, 'native').map((t) => `${t.point.id}#${t.replicate}`);
    const b = scheduleTasks(plan, 'native').map((t) => `${t.point.id}#${t.replicate}`);
    const c = scheduleTasks({ ...plan, order: { randomize: true, seed: 7 } }, 'native').map(
      (t) => `${t.point.id}#${t.replicate}`,
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([...c].sort());
  });
  it('finishes every point of replicate r before replicate r+1 starts', () => {
    const reps = scheduleTasks(plan, 'docker').map((t) => t.replicate);
    expect(reps).toEqual([...reps].sort((x, y) => x - y));
  });
  it('keeps plan order when not randomized', () => {
    const tasks = scheduleTasks({ ...plan, order: { randomize: false, seed: 1 } }, 'native');
    expect(tasks.slice(0, 3).map((t) => t.point.value)).toEqual([100, 1100, 2100]);
  });
  it('sweepValues stops at the last value not beyond the end', () => {
    expect(sweepValues({ from: 100, to: 20000, step: 1000 }).at(-1)).toBe(19100);
    expect(sweepValues({ from: 50, to: 1950, step: 100 }).at(-1)).toBe(1950);
  });
});

describe('plan format 2: design and precision', () => {
  it('reads a version-1 plan as environment-major (as it ran) and a version-2 plan as blocked by default', () => {
    const v1 = validatePlan({ ...quick, formatVersion: 1, design: undefined });
    expect(v1).toMatchObject({ formatVersion: 2, design: 'environment-major', precision: null });
    expect(validatePlan({ ...quick, design: undefined }).design).toBe('blocked');
  });
  it('honours a design that a version-1 plan names itself, and checks it like any other', () => {
    expect(validatePlan({ ...quick, formatVersion: 1, design: 'blocked' }).design).toBe('blocked');
    expect(() => validatePlan({ ...quick, formatVersion: 1, design: 'rotated' }, 'old.json')).toThrow(
      /old\.json: design: /,
    );
  });
  it('refuses a precision target below the replicates or without blocks, naming the field', () => {
    expect(() =>
      validatePlan({ ...quick, replicates: 3, precision: { halfWidthPercent: 1, maxReplicates: 2 } }, 't.json'),
    ).toThrow(/precision\.maxReplicates: 2 is below replicates \(3\)/);
    expect(() =>
      validatePlan(
        { ...quick, design: 'environment-major', precision: { halfWidthPercent: 1, maxReplicates: 5 } },
        't.json',
      ),
    ).toThrow(/precision: precision targets add blocks: they need design "blocked"/);
    expect(() => validatePlan({ ...quick, precision: { halfWidthPercent: 0, maxReplicates: 5 } }, 't.json')).toThrow(
      /precision\.halfWidthPercent/,
    );
  });
  it('-r belongs to UDP_STREAM only', () => {
    expect(() =>
      validatePlan(
        { ...quick, sweeps: [{ test: 'TCP_STREAM', series: 's', vary: 'requestSize', from: 100, to: 200, step: 100 }] },
        't.json',
      ),
    ).toThrow(/requestSize \(-r\) is a UDP_STREAM option/);
  });
});
