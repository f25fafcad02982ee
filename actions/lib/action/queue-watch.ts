// The queue watchdog's decisions. GitHub keeps a job for an offline self-hosted runner queued for
// 24 to 48 hours before it cancels it (docs: "Usage limits for self-hosted runners", job queue
// time), and a pair's legs run one after another, so an offline server or client would hold the pair
// and its concurrency group for days. A job on a GitHub-hosted runner polls the run's jobs while the
// pairs measure and cancels the run once a self-hosted job has stayed queued beyond a bound.
//
// Pure: the jobs list (jobs API, every page) and the watchdog's own memory of when it first saw each
// job queued go in; a decision comes out. The API calls are the edge (scripts/queue-watchdog.ts).
//
// What it relies on from GitHub's documentation (REST "Workflow jobs"): a job's `status` is queued
// while it waits for a runner (other states: in_progress, completed, waiting for an environment's
// rules, requested, pending); `labels` are its runs-on labels. A job waiting in a concurrency group
// is `pending`, not queued ("Control the concurrency of workflows and jobs"), and one held back by
// max-parallel is not created yet: neither waits for a runner, so neither counts. The wait is
// measured from when the watchdog first saw the job queued, not from its created_at.

import type { RunJob } from './run-jobs.ts';

/** The pair's runner labels: virtnet-server-<pair>, virtnet-client-<pair> (runner-pairs.ts pairLabels). */
const PAIR_LABEL = /^virtnet-(server|client)-(.+)$/i;

export const DEFAULT_BOUND_MINUTES = 30;

/** A self-hosted job of the run, as the watchdog sees it. */
export interface WatchedJob {
  name: string;
  /** The pair, lower case (runner labels ignore case), or null when no pair label is found. */
  pair: string | null;
  /** The pair label the job waits for (virtnet-server-<pair> or virtnet-client-<pair>), or the labels joined. */
  label: string;
  status: string;
  /** Minutes since the watchdog first saw it queued; null when not queued. */
  queuedMinutes: number | null;
}

export type QueueDecision =
  /** Nothing stuck; some self-hosted work may still come. */
  | { kind: 'watch'; jobs: WatchedJob[] }
  /** A job is stuck, but another pair is measuring: cancelling now would throw its sweep away. */
  | { kind: 'hold'; stuck: WatchedJob[]; busy: string[]; jobs: WatchedJob[] }
  /** Cancel the run: these jobs stayed queued beyond the bound. */
  | { kind: 'cancel'; stuck: WatchedJob[]; jobs: WatchedJob[] }
  /** Every expected self-hosted job has completed: the watchdog's work is done. */
  | { kind: 'done'; jobs: WatchedJob[] };

export interface WatchInput {
  jobs: readonly RunJob[];
  /** Job name -> when the watchdog first saw it queued (ms since the epoch); updated by observe(). */
  firstQueued: ReadonlyMap<string, number>;
  now: number;
  boundMinutes: number;
  /** How many self-hosted jobs the run makes in all (expectedSelfHostedJobs); done when that many completed. */
  expected: number;
}

function pairLabelOf(labels: readonly string[]): { pair: string | null; label: string } {
  for (const l of labels) {
    const m = PAIR_LABEL.exec(l);
    if (m) return { pair: m[2]!.toLowerCase(), label: l };
  }
  return { pair: null, label: labels.join(', ') };
}

export function isSelfHosted(job: RunJob): boolean {
  return (job.labels ?? []).some((l) => l.toLowerCase() === 'self-hosted');
}

/** The memory after this poll: queued jobs keep (or get) their first-seen time; others are forgotten. */
export function observe(
  jobs: readonly RunJob[],
  firstQueued: ReadonlyMap<string, number>,
  now: number,
): Map<string, number> {
  const next = new Map<string, number>();
  for (const job of jobs)
    if (isSelfHosted(job) && job.status === 'queued') next.set(job.name, firstQueued.get(job.name) ?? now);
  return next;
}

/** Self-hosted jobs the run makes: per pair, two per environment (server and client) and the OSv build when asked for. */
export function expectedSelfHostedJobs(pairs: number, environments: number, needsOsv: boolean): number {
  return pairs * (environments * 2 + (needsOsv ? 1 : 0));
}

export function decide(input: WatchInput): QueueDecision {
  const jobs: WatchedJob[] = input.jobs.filter(isSelfHosted).map((job) => {
    const since = job.status === 'queued' ? input.firstQueued.get(job.name) : undefined;
    return {
      name: job.name,
      ...pairLabelOf(job.labels ?? []),
      status: job.status,
      queuedMinutes: since === undefined ? null : (input.now - since) / 60_000,
    };
  });
  const completed = jobs.filter((j) => j.status === 'completed').length;
  if (completed >= input.expected && jobs.every((j) => j.status === 'completed')) return { kind: 'done', jobs };
  const stuck = jobs.filter((j) => j.queuedMinutes !== null && j.queuedMinutes >= input.boundMinutes);
  if (stuck.length === 0) return { kind: 'watch', jobs };
  const stuckPairs = new Set(stuck.map((j) => j.pair));
  const busy = [
    ...new Set(jobs.filter((j) => j.status === 'in_progress' && !stuckPairs.has(j.pair)).map((j) => j.pair ?? j.label)),
  ];
  return busy.length > 0 ? { kind: 'hold', stuck, busy, jobs } : { kind: 'cancel', stuck, jobs };
}

const minutes = (m: number) => `${Math.floor(m)} min`;

/** The one annotation of a cancellation: each stuck job's pair, label and minutes waited. */
export function cancelAnnotation(stuck: readonly WatchedJob[], boundMinutes: number): string {
  const each = stuck.map(
    (j) =>
      `pair ${j.pair ?? '(none)'}: "${j.name}" waited ${minutes(j.queuedMinutes ?? 0)} for a runner labelled ${j.label}`,
  );
  return `cancelling the run: ${each.join('; ')} (bound: ${boundMinutes} min, queue-bound in reproduce.yml). That runner is offline, busy elsewhere or missing the label: bring it back (actions/README.md, "Set up a runner pair"), then run the workflow again.`;
}

/** The warning while a stuck job waits for another pair to finish its leg. */
export function holdAnnotation(stuck: readonly WatchedJob[], busy: readonly string[]): string {
  const pairs = [...new Set(stuck.map((j) => j.pair ?? j.label))].join(', ');
  return `pair ${pairs}: ${stuck.map((j) => `"${j.name}" queued ${minutes(j.queuedMinutes ?? 0)} for ${j.label}`).join('; ')}; the run is cancelled once ${busy.join(', ')} ${busy.length === 1 ? 'is' : 'are'} between legs, so that no sweep in progress is thrown away`;
}

/** A runner as the runners API lists it (GET /repos/{owner}/{repo}/actions/runners). */
export interface RunnerInfo {
  name: string;
  status: string;
  busy: boolean;
  labels: string[];
}

/** The summary's runner table: the pairs' runners, online or offline, or why it cannot be listed. */
export function runnersSummary(runners: RunnerInfo[] | { error: string }): string {
  if ('error' in runners) {
    return `The runners could not be listed (${runners.error}): the workflow's token cannot read them; a token with the repository permission "Administration: read" in the secret VIRTNET_RUNNERS_TOKEN can.\n`;
  }
  const ours = runners.filter((r) => r.labels.some((l) => PAIR_LABEL.test(l)));
  if (ours.length === 0) return 'No runner carries a pair label (virtnet-server-<pair>, virtnet-client-<pair>).\n';
  const rows = ours.map(
    (r) =>
      `| ${r.name} | ${r.status}${r.busy ? ' (busy)' : ''} | ${r.labels.filter((l) => PAIR_LABEL.test(l)).join(', ')} |`,
  );
  return ['| runner | status | pair labels |', '| --- | --- | --- |', ...rows, ''].join('\n');
}
