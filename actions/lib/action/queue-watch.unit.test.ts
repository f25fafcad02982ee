// The queue watchdog's decisions over jobs lists as the jobs API gives them: a pair's job queued
// beyond the bound cancels the run, naming the pair, the label and the minutes; another pair's leg in
// progress holds the cancellation; the run's end ends the watch.

import { describe, expect, it } from 'vitest';
import {
  cancelAnnotation,
  decide,
  expectedSelfHostedJobs,
  holdAnnotation,
  observe,
  runnersSummary,
} from './queue-watch.ts';
import type { RunJob } from './run-jobs.ts';

const MIN = 60_000;
const job = (name: string, status: string, labels: string[], conclusion: string | null = null): RunJob => ({
  name,
  run_attempt: 1,
  status,
  conclusion,
  labels,
});
const server = (pair: string, env: string, status: string, conclusion: string | null = null) =>
  job(
    `Measure on ${pair} / ${env} / Serve ${env} on ${pair}`,
    status,
    ['self-hosted', `virtnet-server-${pair}`],
    conclusion,
  );
const client = (pair: string, env: string, status: string, conclusion: string | null = null) =>
  job(
    `Measure on ${pair} / ${env} / Sweep ${env} on ${pair}`,
    status,
    ['self-hosted', `virtnet-client-${pair}`],
    conclusion,
  );
const hosted = job('Check the inputs', 'completed', ['ubuntu-latest'], 'success');

describe('queue watchdog decisions', () => {
  it('counts the self-hosted jobs a run makes', () => {
    expect(expectedSelfHostedJobs(2, 4, true)).toBe(18);
    expect(expectedSelfHostedJobs(1, 2, false)).toBe(4);
  });

  it('measures a wait from when it first saw the job queued, and forgets jobs that left the queue', () => {
    const t0 = 1_000_000;
    let seen = observe([server('a', 'native', 'queued'), hosted], new Map(), t0);
    expect([...seen]).toEqual([['Measure on a / native / Serve native on a', t0]]);
    seen = observe([server('a', 'native', 'queued'), client('a', 'native', 'queued')], seen, t0 + 5 * MIN);
    expect(seen.get('Measure on a / native / Serve native on a')).toBe(t0);
    expect(seen.get('Measure on a / native / Sweep native on a')).toBe(t0 + 5 * MIN);
    seen = observe([server('a', 'native', 'in_progress')], seen, t0 + 6 * MIN);
    expect(seen.size).toBe(0);
  });

  it('watches while waits are under the bound, cancels beyond it naming the pair, the label and the minutes', () => {
    const t0 = 0;
    const jobs = [hosted, server('N3530', 'native', 'queued'), client('N3530', 'native', 'in_progress')];
    const firstQueued = observe(jobs, new Map(), t0);
    expect(decide({ jobs, firstQueued, now: t0 + 29 * MIN, boundMinutes: 30, expected: 2 }).kind).toBe('watch');
    const d = decide({ jobs, firstQueued, now: t0 + 31 * MIN, boundMinutes: 30, expected: 2 });
    // Its own partner (the client of the same pair) being in progress does not hold the cancellation.
    expect(d.kind).toBe('cancel');
    if (d.kind !== 'cancel') return;
    expect(d.stuck).toEqual([
      expect.objectContaining({ pair: 'n3530', label: 'virtnet-server-N3530', queuedMinutes: 31 }),
    ]);
    expect(cancelAnnotation(d.stuck, 30)).toMatch(
      /^cancelling the run: pair n3530: "Measure on N3530 \/ native \/ Serve native on N3530" waited 31 min for a runner labelled virtnet-server-N3530 \(bound: 30 min/,
    );
  });

  it('holds while another pair measures, and cancels once that pair is between legs', () => {
    const stuck = client('b', 'kvm', 'queued');
    const firstQueued = new Map([[stuck.name, 0]]);
    const busy = decide({
      jobs: [
        stuck,
        server('b', 'kvm', 'in_progress'),
        server('a', 'docker', 'in_progress'),
        client('a', 'docker', 'in_progress'),
      ],
      firstQueued,
      now: 45 * MIN,
      boundMinutes: 30,
      expected: 8,
    });
    expect(busy.kind).toBe('hold');
    if (busy.kind === 'hold') {
      expect(busy.busy).toEqual(['a']);
      expect(holdAnnotation(busy.stuck, busy.busy)).toMatch(
        /^pair b: "Measure on b \/ kvm \/ Sweep kvm on b" queued 45 min for virtnet-client-b; the run is cancelled once a is between legs/,
      );
    }
    const between = decide({
      jobs: [
        stuck,
        server('b', 'kvm', 'in_progress'),
        server('a', 'docker', 'completed', 'success'),
        client('a', 'docker', 'completed', 'success'),
      ],
      firstQueued,
      now: 50 * MIN,
      boundMinutes: 30,
      expected: 8,
    });
    expect(between.kind).toBe('cancel');
  });

  it('is done when every expected self-hosted job has completed, not before', () => {
    const done = [server('a', 'native', 'completed', 'success'), client('a', 'native', 'completed', 'failure')];
    expect(
      decide({ jobs: [hosted, ...done], firstQueued: new Map(), now: 0, boundMinutes: 30, expected: 2 }).kind,
    ).toBe('done');
    // The next leg is not created yet (max-parallel: 1): still watching.
    expect(decide({ jobs: done, firstQueued: new Map(), now: 0, boundMinutes: 30, expected: 4 }).kind).toBe('watch');
  });

  it("lists the pairs' runners, online or offline, or says why it cannot", () => {
    const table = runnersSummary([
      { name: 'srv', status: 'offline', busy: false, labels: ['self-hosted', 'Linux', 'virtnet-server-a'] },
      { name: 'cli', status: 'online', busy: true, labels: ['self-hosted', 'virtnet-client-a'] },
      { name: 'other', status: 'online', busy: false, labels: ['self-hosted', 'gpu'] },
    ]);
    expect(table).toBe(
      '| runner | status | pair labels |\n| --- | --- | --- |\n| srv | offline | virtnet-server-a |\n| cli | online (busy) | virtnet-client-a |\n',
    );
    expect(runnersSummary({ error: 'the runners API answered 403' })).toMatch(
      /^The runners could not be listed \(the runners API answered 403\).*Administration: read.*VIRTNET_RUNNERS_TOKEN/,
    );
  });
});
