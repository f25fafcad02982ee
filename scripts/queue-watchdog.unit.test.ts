// The queue watchdog's edge against a stand-in of GitHub's API on loopback: it reads every page of
// the jobs, asks for the run's cancellation (the step output cancel=true, which the next job acts on)
// once a pair's job stays queued beyond the bound, writes one annotation and the summary (runners listed, or why not), and ends by itself when the run's
// self-hosted jobs have all completed. Time is a fake clock that the watchdog's sleeps advance.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, settingsFrom, type WatchdogIO } from './queue-watchdog.ts';

describe('queue watchdog against a stand-in API', () => {
  let server: Server;
  let url = '';
  const requests: string[] = [];
  /** The jobs the API lists at each poll (the index is the poll's number, the last one repeats). */
  let script: unknown[][] = [];
  let polls = 0;
  let runnersStatus = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const u = new URL(req.url ?? '/', 'http://x');
      res.setHeader('content-type', 'application/json');
      if (u.pathname.endsWith('/runners')) {
        res.writeHead(runnersStatus).end(
          JSON.stringify(
            runnersStatus === 200
              ? {
                  total_count: 1,
                  runners: [
                    {
                      name: 'srv-a',
                      status: 'offline',
                      busy: false,
                      labels: [{ name: 'self-hosted' }, { name: 'virtnet-server-a' }],
                    },
                  ],
                }
              : { message: 'Resource not accessible by integration' },
          ),
        );
      } else {
        const page = Number(u.searchParams.get('page'));
        const jobs = script[Math.min(polls, script.length - 1)]!;
        if (page * 100 >= jobs.length) polls++;
        res
          .writeHead(200)
          .end(JSON.stringify({ total_count: jobs.length, jobs: jobs.slice((page - 1) * 100, page * 100) }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const dir = mkdtempSync(join(tmpdir(), 'virtnet-watchdog-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (extra: Record<string, string> = {}) => ({
    GITHUB_API_URL: url,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_RUN_ID: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_TOKEN: 'tok',
    PAIRS: '[{"name":"a"},{"name":"b"}]',
    ENVIRONMENTS: '["native"]',
    NEEDS_OSV: 'false',
    QUEUE_BOUND_MINUTES: '30',
    ...extra,
  });
  function fakeIO() {
    let clock = 0;
    const lines: string[] = [];
    const io: WatchdogIO = {
      fetch,
      sleep: async (ms) => void (clock += ms),
      now: () => clock,
      print: (l) => lines.push(l),
    };
    return { io, lines, minutes: () => clock / 60_000 };
  }
  const job = (name: string, status: string, label: string, conclusion: string | null = null) => ({
    name,
    run_attempt: 1,
    status,
    conclusion,
    labels: ['self-hosted', label],
    created_at: '2026-01-01T00:00:00Z',
  });
  const filler = Array.from({ length: 130 }, (_, i) => ({
    name: `hosted ${i}`,
    run_attempt: 1,
    status: 'completed',
    conclusion: 'success',
    labels: ['ubuntu-latest'],
  }));

  it("cancels the run when a pair's server job stays queued beyond the bound, with one annotation and the summary", async () => {
    requests.length = 0;
    polls = 0;
    runnersStatus = 403;
    // Pair a's server never gets a runner; pair b has measured. The jobs span two pages.
    const stuck = [
      ...filler,
      job('Measure on a / native / Serve native on a', 'queued', 'virtnet-server-a'),
      job('Measure on a / native / Sweep native on a', 'in_progress', 'virtnet-client-a'),
      job('Measure on b / native / Serve native on b', 'completed', 'virtnet-server-b', 'success'),
      job('Measure on b / native / Sweep native on b', 'completed', 'virtnet-client-b', 'success'),
    ];
    script = [stuck];
    const summary = join(dir, 'summary.md');
    const output = join(dir, 'output');
    const { io, lines, minutes } = fakeIO();
    expect(await main(env({ GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output, RUNNERS_TOKEN: 'r' }), io)).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe('cancel=true\n');
    expect(minutes()).toBe(30);
    const errors = lines.filter((l) => l.startsWith('::error::'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^::error::cancelling the run: pair a: "Measure on a \/ native \/ Serve native on a" waited 30 min for a runner labelled virtnet-server-a \(bound: 30 min/,
    );
    expect(requests.filter((r) => r.startsWith('GET /repos/o/r/actions/runs/7/jobs')).slice(0, 2)).toEqual([
      'GET /repos/o/r/actions/runs/7/jobs?filter=latest&per_page=100&page=1',
      'GET /repos/o/r/actions/runs/7/jobs?filter=latest&per_page=100&page=2',
    ]);
    expect(requests.every((r) => r.startsWith('GET '))).toBe(true);
    const text = readFileSync(summary, 'utf8');
    expect(text).toMatch(/## virtnet: the run was cancelled by the queue watchdog/);
    expect(text).toMatch(/The runners could not be listed \(the runners API answered 403\)/);
  });

  it('ends by itself when every self-hosted job has completed, and lists the runners when the token may', async () => {
    requests.length = 0;
    polls = 0;
    runnersStatus = 200;
    const running = [
      job('Measure on a / native / Serve native on a', 'in_progress', 'virtnet-server-a'),
      job('Measure on a / native / Sweep native on a', 'in_progress', 'virtnet-client-a'),
    ];
    const finished = ['a', 'b'].flatMap((p) => [
      job(`Measure on ${p} / native / Serve native on ${p}`, 'completed', `virtnet-server-${p}`, 'success'),
      job(`Measure on ${p} / native / Sweep native on ${p}`, 'completed', `virtnet-client-${p}`, 'success'),
    ]);
    script = [running, running, finished];
    const summary = join(dir, 'summary2.md');
    const output = join(dir, 'output2');
    const { io, lines } = fakeIO();
    expect(await main(env({ GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output, RUNNERS_TOKEN: 'r' }), io)).toBe(0);
    expect(lines.at(-1)).toMatch(/every self-hosted job of the run has completed/);
    expect(existsSync(output)).toBe(false);
    expect(readFileSync(summary, 'utf8')).toMatch(/\| srv-a \| offline \| virtnet-server-a \|/);
  });

  it('refuses bad settings naming the variable and the value', () => {
    expect(() => settingsFrom(env({ NEEDS_OSV: 'yes' }))).toThrow(/^NEEDS_OSV: expected true or false, got "yes"/);
    expect(() => settingsFrom(env({ PAIRS: '{' }))).toThrow(/^PAIRS: expected a JSON list, got "\{"/);
    expect(() => settingsFrom(env({ QUEUE_BOUND_MINUTES: '0' }))).toThrow(/^QUEUE_BOUND_MINUTES: 0 is out of range/);
  });
});
