// The run formats refuse what an outsider could put in a manifest or a results line (issue 14,
// items 5 and 6), each time naming the file, the field and the value, never with a TypeError.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import { parseManifest, parseResults, RunFormatError, validateManifest } from './records.ts';
import { loadRun } from './run-dir.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const REPORTS = new URL('../../../reports/runs', import.meta.url).pathname;
const { plan } = loadPlan('quick', PLANS);
const run = syntheticRun({ plan, environments: ['native'], replicates: 1, seed: 3 });
const manifestText = JSON.stringify(run.manifest);
const okLine = JSON.stringify(run.records.find((r) => r.status === 'ok'));

type Json = Record<string, any>;

function refusal(read: () => unknown): string {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(RunFormatError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('every committed run reads through the schemas', () => {
  it.each(readdirSync(REPORTS))('%s', (runId) => {
    const loaded = loadRun(join(REPORTS, runId));
    expect(loaded.manifest.runId).toBe(runId);
    expect(loaded.results.records.length).toBeGreaterThan(0);
  });
});

describe('a hostile manifest is refused, naming the file, the field and the value', () => {
  const cases: [string, (m: Json) => void, string | RegExp][] = [
    // --resume on these once looped until V8 ran out of memory, or was accepted and ran for years.
    [
      'a plan whose step never reaches the end',
      (m) => (m.plan.sweeps[0].step = 0),
      'm.json: plan.sweeps[0].step: 0 never reaches the end: expected a step above 0',
    ],
    [
      'a plan of 1e8 replicates of 999999 s',
      (m) => Object.assign(m.plan, { replicates: 1e8, testLengthSeconds: 999999 }),
      'm.json:\n  - plan.testLengthSeconds: 999999 is out of range: expected 1 to 3600\n  - plan.replicates: 100000000 is out of range: expected 1 to 1000',
    ],
    [
      'a plan of a billion points',
      (m) => Object.assign(m.plan.sweeps[0], { from: 1, to: 1e9, step: 1 }),
      /^m\.json: plan\.sweeps: 100000000\d points in all, more than the 10000 a plan may have/,
    ],
    [
      'an empty plan',
      (m) => (m.plan = {}),
      /^m\.json:\n {2}- plan\.formatVersion: expected a whole number, got nothing\n {2}- plan\.name: expected a non-empty string, got nothing/,
    ],
    [
      'a plan of a newer format',
      (m) => (m.plan.formatVersion = 99),
      'm.json: plan.formatVersion: 99 is newer than this virtnet reads (2); upgrade virtnet',
    ],
    [
      'formatVersion -1',
      (m) => (m.formatVersion = -1),
      'm.json: formatVersion: -1 is not a format version: expected 1 to 1',
    ],
    [
      'hosts without the server',
      (m) => (m.hosts = { client: m.hosts.client }),
      'm.json: hosts.server: expected an object, got nothing',
    ],
    [
      'a host without its cores',
      (m) => delete m.hosts.client.cores,
      'm.json: hosts.client.cores: expected a whole number, got nothing',
    ],
    [
      'a string startupSeconds',
      (m) => (m.environmentDescriptions.native.startupSeconds = '3.2'),
      'm.json: environmentDescriptions.native.startupSeconds: expected a number, got "3.2"',
    ],
    [
      'markup in plan.replicates',
      (m) => (m.plan.replicates = '<img src=x onerror=alert(8)>'),
      'm.json: plan.replicates: expected a whole number, got "<img src=x onerror=alert(8)>"',
    ],
    [
      'a run id that climbs out',
      (m) => (m.runId = '../../elsewhere'),
      /^m\.json: runId: "\.\.\/\.\.\/elsewhere" does not fit: expected letters, digits/,
    ],
    [
      'a series that climbs out',
      (m) => (m.plan.sweeps[0].series = 'x/../../TRAVERSED'),
      /^m\.json: plan\.sweeps\[0\]\.series: "x\/\.\.\/\.\.\/TRAVERSED" does not fit/,
    ],
    [
      'an unknown status',
      (m) => (m.status = 'bogus'),
      'm.json: status: "bogus" is not one of running, complete, incomplete, interrupted',
    ],
    ['an unknown field', (m) => (m.extra = 1), /^m\.json: extra: unknown field \(known: formatVersion, kind, runId/],
    ['sessions that are not a list', (m) => (m.sessions = {}), 'm.json: sessions: expected a list, got {}'],
    [
      'a time that is not one',
      (m) => (m.createdAt = 'yesterday'),
      'm.json: createdAt: expected a time such as 2026-01-30T12:00:00.000Z, got "yesterday"',
    ],
    [
      'another kind of file',
      (m) => (m.kind = 'something-else'),
      'm.json: kind is "something-else", not "virtnet-run": this is not a virtnet run',
    ],
  ];
  it.each(cases)('%s', (_, change, message) => {
    const m = JSON.parse(manifestText);
    change(m);
    const error = refusal(() => validateManifest(m, 'm.json'));
    if (typeof message === 'string') expect(error).toBe(message);
    else expect(error).toMatch(message);
  });

  it('a manifest that is not an object', () => {
    expect(refusal(() => parseManifest('[1]', 'm.json'))).toBe('m.json: expected an object, got [1]');
  });

  it('accepts the manifest as written, and its plan as the plan schema reads it', () => {
    expect(validateManifest(JSON.parse(manifestText)).plan).toEqual(plan);
  });
});

describe('a hostile results line is refused, naming the line, the field and the value', () => {
  const cases: [string, (line: string) => string, string | RegExp][] = [
    // JSON.parse reads 1e309 as Infinity: it once reached points.csv as Infinity and charts as null.
    [
      'throughput 1e309',
      (l) => l.replace(/"throughputMbps":[0-9.e+]+/, '"throughputMbps":1e309'),
      'r.jsonl line 1: metrics.throughputMbps: expected a finite number, got Infinity (a number too large to hold)',
    ],
    [
      'a negative throughput',
      (l) => l.replace(/"throughputMbps":[0-9.e+]+/, '"throughputMbps":-5'),
      'r.jsonl line 1: metrics.throughputMbps: -5 is out of range: expected 0 to 10000000',
    ],
    [
      'a point value of 1e309',
      (l) => l.replace(/"value":\d+/, '"value":1e309'),
      /^r\.jsonl line 1: value: expected a whole number, got Infinity/,
    ],
    [
      'status "bogus"',
      (l) => l.replace('"status":"ok"', '"status":"bogus"'),
      'r.jsonl line 1: status: "bogus" is not one of ok, failed',
    ],
    [
      'an ok record without metrics',
      (l) => l.replace(/"metrics":\{.*\}\}$/, '"metrics":null}'),
      'r.jsonl line 1: metrics: an ok record needs metrics',
    ],
    [
      'a point id that does not match the point',
      (l) => l.replace(/"pointId":"[^"]+"/, '"pointId":"TCP_STREAM:sendSocketSize=1"'),
      /^r\.jsonl line 1: pointId: "TCP_STREAM:sendSocketSize=1" does not match test, parameter and value: expected "/,
    ],
    [
      'a newer format',
      (l) => l.replace('"formatVersion":1', '"formatVersion":2'),
      'r.jsonl line 1: formatVersion: 2 is newer than this virtnet reads (1); upgrade virtnet',
    ],
    [
      'a command that is not a list',
      (l) => l.replace(/"command":\[[^\]]*\]/, '"command":"rm -rf /"'),
      'r.jsonl line 1: command: expected a list, got "rm -rf /"',
    ],
    [
      'an environment name with a path in it',
      (l) => l.replace('"environment":"native"', '"environment":"../x"'),
      /^r\.jsonl line 1: environment: "\.\.\/x" does not fit/,
    ],
  ];
  it.each(cases)('%s', (_, change, message) => {
    const line = change(okLine);
    expect(line).not.toBe(okLine);
    const error = refusal(() => parseResults(`${line}\n`, 'r.jsonl'));
    if (typeof message === 'string') expect(error).toBe(message);
    else expect(error).toMatch(message);
  });

  it('names the line of a broken one, quoting no more than a short excerpt', () => {
    const broken = `${okLine}\n{"formatVersion":1,"stdout":"PRIVATE-${'x'.repeat(200)}", oops}\n${okLine}\n`;
    const error = refusal(() => parseResults(broken, 'r.jsonl'));
    expect(error).toBe(
      'r.jsonl line 2: not valid JSON (Expected double-quoted property name in JSON at position 240 (line 1 column 241))',
    );
    const garbage = refusal(() => parseResults(`${okLine}\nPRIVATE-KEY-${'x'.repeat(200)}\n`, 'r.jsonl'));
    expect(garbage).toBe('r.jsonl line 2: not valid JSON (unexpected "P" near "PRIVATE-KE")');
  });

  it('accepts the committed records and the synthetic ones', () => {
    const text = readFileSync(join(REPORTS, readdirSync(REPORTS)[0]!, 'results.jsonl'), 'utf8');
    expect(parseResults(text).records.length).toBeGreaterThan(500);
    expect(parseResults(run.records.map((r) => `${JSON.stringify(r)}\n`).join('')).records).toEqual(run.records);
  });
});

describe('the CPU cost of a measurement', () => {
  const cpu = {
    scope: { cgroups: ['docker/abc'], pids: [] },
    wallSeconds: 10.05,
    deliveredBytes: 117_500_000,
    serverSeconds: 0.47,
    serverSecondsPerGigabyte: 4,
    unreadable: null,
    clientSeconds: 0.35,
    clientSecondsPerGigabyte: 2.978723,
    hostSoftirqSeconds: 0.9,
    hostIrqSeconds: 0.02,
    softirqInTaskTime: true,
  };
  const withCpu = (c: Json) => JSON.stringify({ ...JSON.parse(okLine), cpu: c });

  it('is read when recorded, and a record from before it was sampled still reads, without it', () => {
    expect(parseResults(`${withCpu(cpu)}\n`).records[0]!.cpu).toEqual(cpu);
    const old = parseResults(`${okLine}\n`).records[0]!;
    expect(JSON.parse(okLine)).not.toHaveProperty('cpu');
    expect(old).not.toHaveProperty('cpu');
  });

  it('is refused, naming the line, the field and the value, when malformed', () => {
    expect(refusal(() => parseResults(`${withCpu({ ...cpu, serverSeconds: -1 })}\n`, 'r.jsonl'))).toBe(
      'r.jsonl line 1: cpu.serverSeconds: -1 is out of range: expected 0 to 10000000',
    );
    expect(
      refusal(() => parseResults(`${withCpu({ ...cpu, scope: { cgroups: [], pids: ['x'] } })}\n`, 'r.jsonl')),
    ).toBe('r.jsonl line 1: cpu.scope.pids[0]: expected a whole number, got "x"');
  });
});

describe('round-trip probe lines', () => {
  const probe = {
    formatVersion: 1,
    kind: 'rtt-probe',
    environment: 'native',
    test: 'TCP_RR',
    session: 1,
    block: 1,
    status: 'ok',
    startedAt: '2026-11-28T09:00:00.000Z',
    finishedAt: '2026-11-28T09:00:02.000Z',
    command: ['netperf', '-t', 'TCP_RR'],
    stdout: '',
    stderr: '',
    error: null,
    metrics: {
      protocol: 'TCP',
      transactionsPerSecond: 2500,
      elapsedSeconds: 2,
      meanLatencyMicroseconds: 400,
      stddevLatencyMicroseconds: 20,
      p50LatencyMicroseconds: 395,
      p99LatencyMicroseconds: 480,
      minLatencyMicroseconds: 380,
      maxLatencyMicroseconds: 900,
      requestSize: 1,
      responseSize: 1,
    },
  };
  it('are read apart from the measurements, which stay exactly as before', () => {
    const text = `${okLine}\n${JSON.stringify(probe)}\n${JSON.stringify({ ...probe, test: 'UDP_RR', status: 'failed', error: 'no response', metrics: null })}\n`;
    const parsed = parseResults(text);
    expect(parsed.records).toHaveLength(1);
    expect(parsed.probes.map((p) => [p.test, p.status])).toEqual([
      ['TCP_RR', 'ok'],
      ['UDP_RR', 'failed'],
    ]);
    expect(parseResults(`${okLine}\n`).probes).toEqual([]);
  });
  it('are refused, naming the line and the field, when malformed', () => {
    expect(refusal(() => parseResults(`${JSON.stringify({ ...probe, kind: 'rtt' })}\n`))).toMatch(/line 1.*kind/);
    expect(refusal(() => parseResults(`${JSON.stringify({ ...probe, metrics: null })}\n`))).toMatch(
      /line 1.*metrics.*an ok probe needs metrics/,
    );
    expect(refusal(() => parseResults(`${JSON.stringify({ ...probe, test: 'TCP_STREAM' })}\n`))).toMatch(
      /line 1.*test/,
    );
    expect(refusal(() => parseResults(`${JSON.stringify({ ...probe, extra: 1 })}\n`))).toMatch(/line 1.*extra/);
  });
});
