#!/usr/bin/env node
// The queue watchdog's edge: reproduce.yml's watchdog job (a GitHub-hosted runner) runs this while
// the pairs measure. Every poll reads all pages of the run's jobs (run-jobs.ts), lets the pure
// decision (actions/lib/action/queue-watch.ts) judge them, and either watches on, warns once that a
// stuck pair waits for another pair's leg to end, asks for the run's cancellation with one
// annotation, or ends when every self-hosted job has completed. The cancellation itself is the next
// job's (`gh run cancel`, the only one holding actions: write): this one installs npm packages, which
// the workflow rules keep out of jobs with a write permission. The summary lists the pairs' runners,
// online or offline, when the token may read them. Bounded: at most MAX_MINUTES of polling.
//
// Settings come from the environment (the workflow passes them through env:, never inline):
//   QUEUE_BOUND_MINUTES  minutes a self-hosted job may stay queued (default 30)
//   PAIRS                the plan job's pairs matrix (JSON list); ENVIRONMENTS its JSON list; NEEDS_OSV true|false
//   GITHUB_TOKEN         actions: read, to list the jobs
//   GITHUB_OUTPUT        gets cancel=true when the run must be cancelled
//   RUNNERS_TOKEN        optional: a token with "Administration: read", to list the runners
//   POLL_SECONDS, MAX_MINUTES  the loop's pace and bound (defaults 60 and 350)

import { appendFileSync } from 'node:fs';
import {
  cancelAnnotation,
  decide,
  DEFAULT_BOUND_MINUTES,
  expectedSelfHostedJobs,
  holdAnnotation,
  observe,
  type QueueDecision,
  type RunnerInfo,
  runnersSummary,
} from '../actions/lib/action/queue-watch.ts';
import {
  apiHeaders,
  fetchRunJobs,
  MAX_PAGES,
  PER_PAGE,
  type RunContext,
  runContext,
} from '../actions/lib/action/run-jobs.ts';
import { InputError, wholeNumber } from '../actions/lib/core/input.ts';

export interface WatchdogSettings {
  run: RunContext;
  token: string;
  runnersToken: string | null;
  boundMinutes: number;
  expected: number;
  pollMs: number;
  maxMinutes: number;
  summaryFile: string | null;
  outputFile: string | null;
}

function jsonList(field: string, text: string | undefined): unknown[] {
  try {
    const value: unknown = JSON.parse(text ?? '');
    if (Array.isArray(value)) return value;
  } catch {
    // worded below
  }
  throw new InputError(field, `expected a JSON list, got ${JSON.stringify((text ?? '').slice(0, 80))}`);
}

export function settingsFrom(env: NodeJS.ProcessEnv): WatchdogSettings {
  const run = runContext(env);
  if (!run)
    throw new InputError(
      'GITHUB_RUN_ID',
      'the runner variables GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT are needed',
    );
  if (!env.GITHUB_TOKEN) throw new InputError('GITHUB_TOKEN', 'is required (actions: read, to list the jobs)');
  const pairs = jsonList('PAIRS', env.PAIRS).length;
  const environments = jsonList('ENVIRONMENTS', env.ENVIRONMENTS).length;
  if (env.NEEDS_OSV !== 'true' && env.NEEDS_OSV !== 'false')
    throw new InputError('NEEDS_OSV', `expected true or false, got ${JSON.stringify(env.NEEDS_OSV ?? '')}`);
  const number = (field: string, fallback: number, range: { min: number; max: number }) =>
    env[field] ? wholeNumber(field, env[field]!, range) : fallback;
  return {
    run,
    token: env.GITHUB_TOKEN,
    runnersToken: env.RUNNERS_TOKEN || null,
    boundMinutes: number('QUEUE_BOUND_MINUTES', DEFAULT_BOUND_MINUTES, { min: 1, max: 24 * 60 }),
    expected: expectedSelfHostedJobs(pairs, environments, env.NEEDS_OSV === 'true'),
    pollMs: number('POLL_SECONDS', 60, { min: 1, max: 600 }) * 1000,
    maxMinutes: number('MAX_MINUTES', 350, { min: 1, max: 24 * 60 }),
    summaryFile: env.GITHUB_STEP_SUMMARY || null,
    outputFile: env.GITHUB_OUTPUT || null,
  };
}

/** The repository's runners, every page; an error (403 for the workflow's token) comes back as text. */
export async function listRunners(
  run: RunContext,
  token: string | null,
  fetchImpl: typeof fetch = fetch,
): Promise<RunnerInfo[] | { error: string }> {
  if (!token) return { error: 'no RUNNERS_TOKEN given' };
  const runners: RunnerInfo[] = [];
  try {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const url = `${run.apiUrl.replace(/\/+$/, '')}/repos/${run.repository}/actions/runners?per_page=${PER_PAGE}&page=${page}`;
      const response = await fetchImpl(url, { headers: apiHeaders(token), signal: AbortSignal.timeout(15_000) });
      if (!response.ok) return { error: `the runners API answered ${response.status}` };
      const body = (await response.json()) as {
        total_count?: number;
        runners?: { name?: unknown; status?: unknown; busy?: unknown; labels?: { name?: unknown }[] }[];
      };
      const listed = body.runners ?? [];
      for (const r of listed)
        runners.push({
          name: String(r.name ?? '?'),
          status: String(r.status ?? '?'),
          busy: r.busy === true,
          labels: (r.labels ?? []).map((l) => String(l.name ?? '')),
        });
      if (listed.length < PER_PAGE || runners.length >= (body.total_count ?? 0)) return runners;
    }
    return runners;
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export interface WatchdogIO {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** A workflow command line (::error::..., ::warning::...) or a log line. */
  print: (line: string) => void;
}

const realIO: WatchdogIO = {
  fetch,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: Date.now,
  print: (line) => console.log(line),
};

/** Polls until done, cancelled or the bound; returns the last decision ('watch' when the bound ended it). */
export async function watch(settings: WatchdogSettings, io: WatchdogIO = realIO): Promise<QueueDecision['kind']> {
  const started = io.now();
  let firstQueued = new Map<string, number>();
  let warned = false;
  let failures = 0;
  const polls = Math.ceil((settings.maxMinutes * 60_000) / settings.pollMs) + 1;
  for (let i = 0; i < polls && io.now() - started <= settings.maxMinutes * 60_000; i++) {
    let jobs;
    try {
      jobs = await fetchRunJobs(settings.run, settings.token, io.fetch);
      failures = 0;
    } catch (e) {
      // A passing API hiccup is not a reason to stop watching; five in a row are.
      if (++failures >= 5) throw e;
      io.print(`::warning::the jobs API failed (${(e as Error).message}); trying again`);
      await io.sleep(settings.pollMs);
      continue;
    }
    const now = io.now();
    firstQueued = observe(jobs, firstQueued, now);
    const decision = decide({
      jobs,
      firstQueued,
      now,
      boundMinutes: settings.boundMinutes,
      expected: settings.expected,
    });
    if (decision.kind === 'done') {
      io.print(`every self-hosted job of the run has completed (${decision.jobs.length}): nothing more to watch`);
      return 'done';
    }
    if (decision.kind === 'cancel') {
      io.print(`::error::${cancelAnnotation(decision.stuck, settings.boundMinutes)}`);
      await writeSummary(
        settings,
        io,
        `## virtnet: the run was cancelled by the queue watchdog\n\n${cancelAnnotation(decision.stuck, settings.boundMinutes)}\n\n`,
      );
      if (settings.outputFile) appendFileSync(settings.outputFile, 'cancel=true\n');
      return 'cancel';
    }
    if (decision.kind === 'hold' && !warned) {
      warned = true;
      io.print(`::warning::${holdAnnotation(decision.stuck, decision.busy)}`);
    }
    await io.sleep(settings.pollMs);
  }
  io.print(
    `::warning::the queue watchdog stopped after ${settings.maxMinutes} min (a GitHub-hosted job runs at most 6 hours); later legs are not watched`,
  );
  return 'watch';
}

async function writeSummary(settings: WatchdogSettings, io: WatchdogIO, text: string): Promise<void> {
  const runners = await listRunners(settings.run, settings.runnersToken, io.fetch);
  if (settings.summaryFile)
    appendFileSync(settings.summaryFile, `${text}### The pairs' runners\n\n${runnersSummary(runners)}\n`);
}

export async function main(env: NodeJS.ProcessEnv = process.env, io: WatchdogIO = realIO): Promise<number> {
  try {
    const settings = settingsFrom(env);
    io.print(
      `watching the run's self-hosted jobs: a job queued for ${settings.boundMinutes} min cancels the run (${settings.expected} self-hosted jobs expected)`,
    );
    await writeSummary(settings, io, `## virtnet: queue watchdog (bound ${settings.boundMinutes} min)\n\n`);
    await watch(settings, io);
    return 0;
  } catch (e) {
    io.print(`::error::queue watchdog: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
