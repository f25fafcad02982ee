// A lone re-run: GitHub lets a user re-run one job, or only the failed jobs, of a workflow run. The
// two jobs of a measure leg (server and client) only work together: re-run alone, the client waits
// for a server that is gone, and the server holds for a client that never comes. Each job therefore
// asks the jobs API, at its start, whether its partner job runs again in this attempt, and refuses
// at once when it does not ("re-run all jobs"). The decision is pure; the API call is the edge, and
// when it cannot be made (no token, no network) the job goes on with a warning.

import { fetchRunJobs, type RunJob, runContext } from './run-jobs.ts';

export type { RunJob };

/** Whether `name` is the partner job: its own name, or as a called workflow's job ("Measure native / Serve native"). */
export function isJobNamed(name: string, partner: string): boolean {
  return name === partner || name.endsWith(` / ${partner}`);
}

/**
 * Why this job must not go on, or null. `attempt` is this job's run attempt; `jobs` the latest
 * execution of each job of the run. A partner whose latest execution belongs to an earlier attempt
 * was not re-run with this job.
 */
export function loneRerunProblem(jobs: readonly RunJob[], partner: string, attempt: number): string | null {
  if (attempt <= 1) return null;
  const found = jobs.filter((j) => isJobNamed(j.name, partner));
  if (found.length === 0) return null; // not listed: nothing to go by
  const latest = found.reduce((a, b) => (b.run_attempt > a.run_attempt ? b : a));
  if (latest.run_attempt >= attempt) return null;
  return `this job was re-run without its partner job "${latest.name}" (which last ran in attempt ${latest.run_attempt}${latest.conclusion ? ` and ${latest.conclusion === 'success' ? 'succeeded' : `ended ${latest.conclusion}`}` : ''}): a measure leg's server and client only work together, so this attempt cannot measure anything. Re-run all jobs of the workflow run (or both jobs of the leg: "Re-run failed jobs" when both failed).`;
}

export type RerunCheck = { kind: 'ok' } | { kind: 'lone'; message: string } | { kind: 'unknown'; message: string };

/** The whole check: first attempts and missing settings pass without asking the API. */
export async function checkPartnerRerun(
  partner: string | null,
  token: string | null,
  env: NodeJS.ProcessEnv,
  fetchImpl: typeof fetch = fetch,
): Promise<RerunCheck> {
  if (!partner) return { kind: 'ok' };
  const run = runContext(env);
  if (!run || run.attempt <= 1) return { kind: 'ok' };
  if (!token)
    return {
      kind: 'unknown',
      message: `attempt ${run.attempt}: cannot tell whether "${partner}" was re-run too (no github-token); if it was not, this job waits in vain: re-run all jobs`,
    };
  try {
    const problem = loneRerunProblem(await fetchRunJobs(run, token, fetchImpl), partner, run.attempt);
    return problem === null ? { kind: 'ok' } : { kind: 'lone', message: problem };
  } catch (e) {
    return {
      kind: 'unknown',
      message: `attempt ${run.attempt}: cannot tell whether "${partner}" was re-run too (${(e as Error).message}; the job needs permissions: actions: read); if it was not, this job waits in vain: re-run all jobs`,
    };
  }
}
