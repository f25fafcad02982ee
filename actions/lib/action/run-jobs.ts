// The jobs of a workflow run, from GitHub's REST API (GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs,
// documented at docs.github.com/rest/actions/workflow-jobs: at most 100 per page, `total_count` in every
// page, `filter=latest` for each job's latest execution). Every page is read: a run with many pairs has
// more than 100 jobs (each pair: an OSv build plus two jobs per environment), and a check that stops
// at a page limit silently passes on the jobs it never saw. Used by the lone re-run check (rerun.ts)
// and the queue watchdog (queue-watch.ts).

/** What the jobs API says of one job; the fields the checks read. */
export interface RunJob {
  name: string;
  /** The attempt this job last ran in (filter=latest gives each job's latest execution). */
  run_attempt: number;
  /** queued, in_progress, completed, waiting, requested or pending. */
  status: string;
  conclusion: string | null;
  /** The runner labels the job asks for (runs-on). */
  labels?: string[];
  /** When the job was created (queued), ISO 8601. */
  created_at?: string | null;
  started_at?: string | null;
  runner_name?: string | null;
}

/** The runner's variables the API calls need. */
export interface RunContext {
  apiUrl: string;
  repository: string;
  runId: string;
  attempt: number;
}

export function runContext(env: NodeJS.ProcessEnv): RunContext | null {
  const attempt = Number(env.GITHUB_RUN_ATTEMPT);
  if (
    !env.GITHUB_API_URL ||
    !env.GITHUB_REPOSITORY ||
    !env.GITHUB_RUN_ID ||
    !Number.isSafeInteger(attempt) ||
    attempt < 1
  )
    return null;
  return { apiUrl: env.GITHUB_API_URL, repository: env.GITHUB_REPOSITORY, runId: env.GITHUB_RUN_ID, attempt };
}

export const PER_PAGE = 100;
/** A bound on the loop, far above any run of this workflow (32 pairs x 9 environments x 2 jobs + a few). */
export const MAX_PAGES = 50;

export function apiHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
  };
}

function jobOf(raw: unknown): RunJob | null {
  const j = raw as Record<string, unknown>;
  if (typeof j?.name !== 'string' || typeof j.run_attempt !== 'number') return null;
  const time = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    name: j.name,
    run_attempt: j.run_attempt,
    status: String(j.status ?? ''),
    conclusion: typeof j.conclusion === 'string' ? j.conclusion : null,
    labels: Array.isArray(j.labels) ? j.labels.map(String) : [],
    created_at: time(j.created_at),
    started_at: time(j.started_at),
    runner_name: time(j.runner_name),
  };
}

/**
 * The latest execution of every job of the run: every page, until a short page or total_count jobs.
 * More than MAX_PAGES pages is an error, never a silent pass.
 */
export async function fetchRunJobs(
  run: RunContext,
  token: string,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 15_000,
): Promise<RunJob[]> {
  const jobs: RunJob[] = [];
  let seen = 0;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const url = `${run.apiUrl.replace(/\/+$/, '')}/repos/${run.repository}/actions/runs/${encodeURIComponent(run.runId)}/jobs?filter=latest&per_page=${PER_PAGE}&page=${page}`;
    const response = await fetchImpl(url, { headers: apiHeaders(token), signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`the jobs API answered ${response.status} ${response.statusText}`.trim());
    const body = (await response.json()) as { total_count?: number; jobs?: unknown[] };
    const listed = body.jobs ?? [];
    seen += listed.length;
    for (const raw of listed) {
      const job = jobOf(raw);
      if (job) jobs.push(job);
    }
    if (listed.length < PER_PAGE || seen >= (body.total_count ?? 0)) return jobs;
  }
  throw new Error(
    `the jobs API lists more than ${MAX_PAGES * PER_PAGE} jobs for run ${run.runId}: more than this check reads`,
  );
}
