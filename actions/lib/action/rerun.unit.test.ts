// The lone re-run check: the pure decision over the jobs API's answer, and the API call itself
// against a local stand-in of the API (loopback), including the answers that must not stop a job.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPartnerRerun, isJobNamed, loneRerunProblem, type RunJob } from './rerun.ts';

const job = (
  name: string,
  run_attempt: number,
  conclusion: string | null = 'success',
  status = 'completed',
): RunJob => ({ name, run_attempt, status, conclusion });

describe('lone re-run (pure)', () => {
  it("finds the partner by its own name or as a called workflow's job", () => {
    expect(isJobNamed('Measure native / Serve native', 'Serve native')).toBe(true);
    expect(isJobNamed('Serve native', 'Serve native')).toBe(true);
    expect(isJobNamed('Measure native / Serve native2', 'Serve native')).toBe(false);
  });

  it('a first attempt, or a partner re-run in this attempt, is fine', () => {
    expect(loneRerunProblem([job('Measure native / Serve native', 1)], 'Serve native', 1)).toBeNull();
    expect(loneRerunProblem([job('Measure native / Serve native', 2, null, 'queued')], 'Serve native', 2)).toBeNull();
  });

  it('a partner that last ran in an earlier attempt: re-run all jobs', () => {
    const jobs = [
      job('Measure native / Serve native', 1, 'success'),
      job('Measure native / Sweep native', 2, null, 'in_progress'),
      job('Measure docker / Serve docker', 2, null, 'queued'),
    ];
    expect(loneRerunProblem(jobs, 'Serve native', 2)).toMatch(
      /^this job was re-run without its partner job "Measure native \/ Serve native" \(which last ran in attempt 1 and succeeded\).*Re-run all jobs/,
    );
    expect(loneRerunProblem(jobs, 'Serve docker', 2)).toBeNull();
  });

  it('a partner the API does not list: nothing to go by, the job goes on', () => {
    expect(loneRerunProblem([job('plan', 1)], 'Serve native', 3)).toBeNull();
  });
});

describe('lone re-run against a stand-in jobs API', () => {
  let server: Server;
  let url = '';
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  /** When set, answers by page number (the query's page=N), like the real API's pagination. */
  let pages: ((page: number) => unknown) | null = null;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page'));
      res.end(JSON.stringify(pages ? pages(page) : answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const env = (attempt: string) => ({
    GITHUB_API_URL: url,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: attempt,
  });

  it('asks nothing on a first attempt or without a partner', async () => {
    seen.length = 0;
    expect(await checkPartnerRerun('Serve native', 't', env('1'))).toEqual({ kind: 'ok' });
    expect(await checkPartnerRerun(null, 't', env('2'))).toEqual({ kind: 'ok' });
    expect(seen).toEqual([]);
  });

  it('refuses a lone re-run, asking for the latest execution of each job with the token', async () => {
    seen.length = 0;
    answer = {
      status: 200,
      body: {
        total_count: 2,
        jobs: [job('Measure kvm / Sweep kvm', 1, 'failure'), job('Measure kvm / Serve kvm', 2, null, 'in_progress')],
      },
    };
    const r = await checkPartnerRerun('Sweep kvm', 'tok', env('2'));
    expect(r.kind).toBe('lone');
    expect(r.kind === 'lone' && r.message).toMatch(
      /"Measure kvm \/ Sweep kvm" \(which last ran in attempt 1 and ended failure\)/,
    );
    expect(seen).toEqual(['/repos/o/r/actions/runs/42/jobs?filter=latest&per_page=100&page=1 Bearer tok']);
  });

  it('reads every page: a partner listed after the first 300 jobs is still found', async () => {
    seen.length = 0;
    // 350 jobs of a run with many pairs; the partner (attempt 1) is job 340, on the fourth page.
    const all = Array.from({ length: 350 }, (_, i) =>
      i === 340
        ? job('Measure on p9 / native / Serve native on p9', 1, 'failure')
        : job(`Measure on p${i} / x / Sweep x on p${i}`, 2, null, 'queued'),
    );
    pages = (page) => ({ total_count: all.length, jobs: all.slice((page - 1) * 100, page * 100) });
    try {
      const r = await checkPartnerRerun('Serve native on p9', 'tok', env('2'));
      expect(r.kind).toBe('lone');
      expect(seen.map((s) => /[?&]page=(\d+)/.exec(s)![1])).toEqual(['1', '2', '3', '4']);
      // A run larger than the bound is an error (a warning for the job), never a silent pass.
      seen.length = 0;
      pages = () => ({
        total_count: 99_999,
        jobs: Array.from({ length: 100 }, () => job('Measure on a / x / Sweep x on a', 2, null, 'queued')),
      });
      expect(await checkPartnerRerun('Serve native on p9', 'tok', env('2'))).toMatchObject({
        kind: 'unknown',
        message: expect.stringMatching(/lists more than 5000 jobs/),
      });
      expect(seen).toHaveLength(50);
    } finally {
      pages = null;
    }
  });

  it('an API that refuses (no actions: read) or a missing token is a warning, not a failure', async () => {
    answer = { status: 403, body: { message: 'Resource not accessible by integration' } };
    const r = await checkPartnerRerun('Sweep kvm', 'tok', env('2'));
    expect(r).toMatchObject({
      kind: 'unknown',
      message: expect.stringMatching(/the jobs API answered 403.*actions: read.*re-run all jobs/),
    });
    expect(await checkPartnerRerun('Sweep kvm', null, env('2'))).toMatchObject({
      kind: 'unknown',
      message: expect.stringMatching(/no github-token/),
    });
  });
});
