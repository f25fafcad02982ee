// virtnet's own rules for its workflows and actions, beyond what a linter knows: the security
// rules of the project (no expressions inside run:, third-party actions pinned to full commits,
// least-privilege permissions on every job, no self-hosted runner reachable from a pull request, no
// dead fork guards, the write token only where it pushes and no npm install scripts beside it), what
// GitHub really does (Pages artifacts named per attempt, no configure-pages, a queueing testbed
// group, no `chromium` apt name on Ubuntu, run artifacts named per attempt) and the consistency of
// local action and reusable-workflow calls with their declared inputs, and the runner-pair structure
// (pairProblems: pair labels, one matrix entry per pair from the one list, a group per pair), and the
// guard of every called workflow (calledWorkflowProblems: each job runs only when called by
// reproduce.yml of the default branch, and checks out the commit it was given), and the one reader
// of the checkout's variants (variantsProblems: a dispatched environments input is checked by
// scripts/environments.ts, and no step reads a variants file itself). Pure: takes parsed YAML,
// returns problems as "file: where: what" lines.

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const PINNED = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._/-]+)?@[0-9a-f]{40}$/;

export interface LocalAction {
  inputs: Record<string, { required: boolean; hasDefault: boolean }>;
  /** For a reusable workflow: its jobs that run on self-hosted runners. */
  selfHostedJobs?: string[];
  /** For a reusable workflow: the local reusable workflows its jobs call (./.github/workflows/<file>). */
  calls?: string[];
}

export interface WorkflowContext {
  /** Local actions by path (./actions/<name>), as declared in their action.yml. */
  localActions: Record<string, LocalAction>;
  /** Reusable workflows by path (./.github/workflows/<file>), with their workflow_call inputs. */
  reusableWorkflows: Record<string, LocalAction>;
}

export function describeAction(doc: Json): LocalAction {
  const inputs: LocalAction['inputs'] = {};
  const declared = isObj(doc) && isObj(doc.inputs) ? doc.inputs : {};
  for (const [name, spec] of Object.entries(declared)) {
    inputs[name] = {
      required: isObj(spec) && spec.required === true,
      hasDefault: isObj(spec) && spec.default !== undefined && spec.default !== '',
    };
  }
  return { inputs };
}

function runnerLabels(job: Obj): string[] {
  const runsOn = job['runs-on'];
  return Array.isArray(runsOn) ? runsOn.map(String) : typeof runsOn === 'string' ? [runsOn] : [];
}

export function describeReusableWorkflow(doc: Json): LocalAction | null {
  const on = isObj(doc) ? doc.on : null;
  if (!isObj(on) || !('workflow_call' in on)) return null;
  const call = on.workflow_call;
  const jobs = isObj(doc) && isObj(doc.jobs) ? doc.jobs : {};
  const selfHostedJobs = Object.entries(jobs)
    .filter(([, job]) => isObj(job) && runnerLabels(job).includes('self-hosted'))
    .map(([name]) => name);
  const calls = Object.values(jobs).flatMap((job) =>
    isObj(job) && typeof job.uses === 'string' && job.uses.startsWith('./') ? [job.uses] : [],
  );
  return { ...describeAction(isObj(call) ? { inputs: call.inputs } : {}), selfHostedJobs, calls };
}

/** Whether the reusable workflow `uses` runs a job on a self-hosted runner, itself or through the workflows it calls. */
export function reachesSelfHostedRunner(uses: string, context: WorkflowContext, seen = new Set<string>()): boolean {
  const called = context.reusableWorkflows[uses];
  if (!called || seen.has(uses)) return false;
  seen.add(uses);
  return (
    (called.selfHostedJobs?.length ?? 0) > 0 ||
    (called.calls ?? []).some((next) => reachesSelfHostedRunner(next, context, seen))
  );
}

/** The push trigger's settings, or null without one ({} for a bare `push`). */
function pushTrigger(doc: Obj): Obj | null {
  const on = doc.on ?? doc[true as unknown as string];
  if (on === 'push' || (Array.isArray(on) && on.includes('push'))) return {};
  if (!isObj(on) || !('push' in on)) return null;
  return isObj(on.push) ? on.push : {};
}

/**
 * An `if:` that decides by an environment's name: `inputs.environment == 'osv'` misses osv-vhost,
 * whose base is osv. Guards compare the base (inputs.base), which env/variants.json gives each variant.
 */
const GUARD_BY_NAME =
  /\b(inputs|matrix)\.environment\s*[!=]=\s*'[^']*'|'[^']*'\s*[!=]=\s*(inputs|matrix)\.environment\b/;

/** The events a workflow runs on, by name. */
function triggers(doc: Obj): string[] {
  const on = doc.on ?? doc[true as unknown as string]; // YAML 1.1 parsers read a bare `on` as true
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return isObj(on) ? Object.keys(on) : [];
}

const PR_EVENTS = ['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment'];

function grantsWrite(permissions: Json): boolean {
  if (permissions === 'write-all') return true;
  return isObj(permissions) && Object.values(permissions).some((v) => v === 'write');
}

function textOf(v: Json): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

const TOKEN = /\$\{\{[^}]*\b(github\.token|secrets\.[A-Za-z0-9_]+)\b/;

function usesAction(step: Obj, action: string): boolean {
  return typeof step.uses === 'string' && step.uses.startsWith(`${action}@`);
}

/** Rules on a workflow as a whole: its concurrency group and what its triggers may reach. */
function workflowLevelProblems(file: string, doc: Obj, context: WorkflowContext): string[] {
  const problems: string[] = [];
  const events = triggers(doc);
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  const reachesSelfHosted = Object.values(jobs).some(
    (job) =>
      isObj(job) &&
      (runnerLabels(job).includes('self-hosted') ||
        (typeof job.uses === 'string' && reachesSelfHostedRunner(job.uses, context))),
  );
  const prEvents = events.filter((e) => PR_EVENTS.includes(e));
  if (prEvents.length > 0 && reachesSelfHosted) {
    problems.push(
      `${file}: runs on ${prEvents.join(', ')} and reaches a self-hosted runner: a fork's pull request would run its code there; keep self-hosted jobs in workflows without pull request triggers`,
    );
  }
  const push = pushTrigger(doc);
  if (push !== null) {
    const ignored = Array.isArray(push['paths-ignore']) ? push['paths-ignore'].map(String) : [];
    if (!ignored.includes('reports/**'))
      problems.push(
        `${file}: on.push: paths-ignore must list 'reports/**': the commit job of reproduce.yml pushes only reports/runs/<run>/, and each such push would start this workflow again`,
      );
    if (isObj(doc.concurrency) && doc.concurrency['cancel-in-progress'] === true) {
      problems.push(
        `${file}: concurrency: cancel-in-progress: true on a workflow that runs on pushes to the default branch cancels the run of the commit before, hiding its result; cancel only for pull requests (cancel-in-progress: \${{ github.event_name == 'pull_request' }})`,
      );
    }
  }
  const concurrency = doc.concurrency;
  if (isObj(concurrency)) {
    const queue = concurrency.queue;
    if (queue !== undefined && queue !== 'single' && queue !== 'max')
      problems.push(`${file}: concurrency.queue is ${JSON.stringify(queue)}: expected single or max`);
    if (queue === 'max' && concurrency['cancel-in-progress'] === true)
      problems.push(
        `${file}: concurrency: queue: max cannot be combined with cancel-in-progress: true (GitHub refuses the workflow)`,
      );
    if (reachesSelfHosted && concurrency['cancel-in-progress'] !== true && queue !== 'max') {
      problems.push(
        `${file}: concurrency: a testbed group without queue: max keeps one pending run and cancels it for the next: pushes made during a run are dropped silently; add queue: max`,
      );
    }
  }
  return problems;
}

/** Rules on one job that depend on the whole workflow (jobs' outputs, triggers). */
function jobLevelProblems(file: string, where: string, job: Obj, doc: Obj, isCalled: boolean): string[] {
  const problems: string[] = [];
  const events = triggers(doc);
  const guard = typeof job.if === 'string' ? job.if : '';
  if (guard.includes('github.event.pull_request') && (isCalled || !events.some((e) => PR_EVENTS.includes(e)))) {
    problems.push(
      `${file}: ${where}: if: tests github.event.pull_request, but ${isCalled ? "a called workflow sees its caller's event" : 'this workflow has no pull request trigger'}: the guard is always true and protects nothing; remove it`,
    );
  }
  if (GUARD_BY_NAME.test(guard))
    problems.push(
      `${file}: ${where}: if: compares the environment's name; compare its base (inputs.base), so that a variant (osv-vhost) is guarded like its base (osv)`,
    );
  const writes = grantsWrite(job.permissions);
  const labels = runnerLabels(job);
  const steps = Array.isArray(job.steps) ? job.steps.filter(isObj) : [];
  steps.forEach((step, i) => {
    const at = `${where}.steps[${i}]${typeof step.name === 'string' ? ` (${step.name})` : ''}`;
    const run = typeof step.run === 'string' ? step.run : '';
    if (GUARD_BY_NAME.test(textOf(step.if)))
      problems.push(
        `${file}: ${at}: if: compares the environment's name; compare its base (inputs.base), so that a variant (osv-vhost) is guarded like its base (osv)`,
      );
    if (usesAction(step, 'actions/configure-pages'))
      problems.push(
        `${file}: ${at}: actions/configure-pages is not needed to deploy an artifact (deploy-pages does it) and runs on node20: remove it`,
      );
    if (usesAction(step, 'actions/upload-pages-artifact')) {
      const name = isObj(step.with) ? textOf(step.with.name) : '';
      if (!name.includes('github.run_attempt'))
        problems.push(
          `${file}: ${at}: the Pages artifact must be named per attempt (with: name: ...\${{ github.run_attempt }}): artifacts persist across attempts, and deploy-pages refuses a name it finds twice`,
        );
    }
    if (usesAction(step, 'actions/deploy-pages')) {
      const name = isObj(step.with) ? textOf(step.with.artifact_name) : '';
      const m = /needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/.exec(name);
      const jobs = isObj(doc.jobs) ? doc.jobs : {};
      const producer = m && isObj(jobs[m[1]!]) ? (jobs[m[1]!] as Obj) : null;
      const output = producer && isObj(producer.outputs) ? textOf(producer.outputs[m![2]!]) : '';
      // Or uploaded by this very job, under this very name (named per attempt).
      const uploadedHere =
        name.includes('github.run_attempt') &&
        steps
          .slice(0, i)
          .some(
            (s2) => usesAction(s2, 'actions/upload-pages-artifact') && isObj(s2.with) && textOf(s2.with.name) === name,
          );
      if (!output.includes('github.run_attempt') && !uploadedHere)
        problems.push(
          `${file}: ${at}: deploy-pages must deploy the artifact of the attempt that uploaded it (artifact_name: \${{ needs.<job>.outputs.<name> }}, that output naming it with github.run_attempt), so that a re-run of the deploy job alone finds exactly one`,
        );
    }
    if (step.uses === './actions/start-environment' || step.uses === './actions/start-environment/') {
      const wait = isObj(step.with) ? textOf(step.with['wait-for-release']) : '';
      if (wait !== '' && wait !== '0' && wait !== 'plan')
        problems.push(
          `${file}: ${at}: wait-for-release: ${wait}: a fixed wait holds the pair that long after a lost release; use wait-for-release: plan (the plan's worst-case sweep with the stated margin)`,
        );
      const preparedBefore = steps
        .slice(0, i)
        .some((earlier) => /\bprepare\.sh\b[^\n]*--role\s+server\b/.test(textOf(earlier.run)));
      if (preparedBefore)
        problems.push(
          `${file}: ${at}: the host is prepared in a step before start-environment, when no heartbeat answers the client: give the command to start-environment's prepare input`,
        );
    }
    if (step.uses === './actions/run-sweep' || step.uses === './actions/run-sweep/') {
      const name = isObj(step.with) ? textOf(step.with['artifact-name']) : '';
      if (!name.includes('github.run_attempt'))
        problems.push(
          `${file}: ${at}: run-sweep's artifact-name must include github.run_attempt: artifacts of earlier attempts persist, and two of one name are downloaded into one folder`,
        );
    }
    if (
      /\bapt(-get)?\s+install\b[^\n]*\bchromium(-browser)?\b/.test(run) &&
      labels.some((l) => l.startsWith('ubuntu'))
    ) {
      problems.push(
        `${file}: ${at}: Ubuntu has no chromium package (chromium-browser only installs a snap): use the browser the runner image has`,
      );
    }
    if (writes) {
      if (/\bnpm\s+(ci|install|i)\b/.test(run) && !run.includes('--ignore-scripts'))
        problems.push(
          `${file}: ${at}: npm install scripts must not run in a job holding a write permission: add --ignore-scripts (or move the install to a read-only job)`,
        );
      if (usesAction(step, 'actions/checkout') && !(isObj(step.with) && step.with['persist-credentials'] === false))
        problems.push(
          `${file}: ${at}: in a job holding a write permission, checkout must not persist the token (persist-credentials: false); give it to the step that pushes`,
        );
      // The steps that use a write token: the one that pushes, and the one that cancels a stuck run.
      const writesWithToken = /\bgit\s+push\b|commit-run\.sh|\bgh\s+run\s+cancel\b/.test(run);
      const given = [textOf(step.env), textOf(step.with)].some((t) => TOKEN.test(t));
      if (given && !writesWithToken)
        problems.push(
          `${file}: ${at}: a token reaches a step that does not push; in a job holding a write permission only the pushing step gets it`,
        );
    }
  });
  if (writes && TOKEN.test(textOf(job.env)))
    problems.push(`${file}: ${where}: a token in the job's env reaches every step; give it to the step that pushes`);
  return problems;
}

function checkCall(
  file: string,
  where: string,
  uses: string,
  withBlock: Json,
  target: LocalAction | undefined,
  kind: string,
): string[] {
  if (!target) return [`${file}: ${where}: ${kind} ${uses} does not exist`];
  const problems: string[] = [];
  const given = isObj(withBlock) ? Object.keys(withBlock) : [];
  for (const key of given)
    if (!(key in target.inputs))
      problems.push(
        `${file}: ${where}: ${uses} has no input ${key} (it has: ${Object.keys(target.inputs).join(', ')})`,
      );
  for (const [name, spec] of Object.entries(target.inputs)) {
    if (spec.required && !spec.hasDefault && !given.includes(name))
      problems.push(`${file}: ${where}: ${uses} needs input ${name}`);
  }
  return problems;
}

// ---- called workflows ------------------------------------------------------------------------------

/**
 * The job-level guard of every called workflow: the run's top-level workflow is this repository's
 * reproduce.yml on its default branch. In a called workflow the github context is the caller's,
 * and github.workflow_ref names the top-level workflow file and its ref (GitHub's contexts
 * reference), so a fork's workflow (refs/pull/N/merge), another branch's or another file's call
 * fails it and the job never reaches a runner.
 */
export const CALLED_WORKFLOW_GUARD =
  "github.workflow_ref == format('{0}/.github/workflows/reproduce.yml@refs/heads/{1}', github.repository, github.event.repository.default_branch)";
/** The input holding the commit a called workflow checks out. */
export const COMMIT_INPUT = 'commit';
const COMMIT_REF = /^\$\{\{\s*inputs\.commit\s*\}\}$/;

/** An `if:` as one line of words, without its ${{ }}. */
function condition(value: Json): string {
  const text = textOf(value).replace(/\s+/g, ' ').trim();
  const m = /^\$\{\{(.*)\}\}$/.exec(text);
  return (m ? m[1]! : text).trim();
}

/**
 * A called workflow's jobs: each `if:` must be the guard, or the guard and'ed with other
 * conditions (no `||`, which could let the job run without it); each checkout must take
 * `ref: ${{ inputs.commit }}` (the caller's ref would be a pull request's merge commit), after a
 * step that refuses a commit that is not 40 hex digits; the workflow must require that input.
 */
export function calledWorkflowProblems(file: string, doc: Json): string[] {
  if (!isObj(doc) || !triggers(doc).includes('workflow_call')) return [];
  const problems: string[] = [];
  const call = isObj(doc.on) ? doc.on.workflow_call : null;
  const inputs = isObj(call) && isObj(call.inputs) ? call.inputs : {};
  const commit = inputs[COMMIT_INPUT];
  if (!(isObj(commit) && commit.required === true && commit.type === 'string'))
    problems.push(
      `${file}: on.workflow_call.inputs.${COMMIT_INPUT}: a called workflow must require the commit to check out (type: string, required: true)`,
    );
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  for (const [name, job] of Object.entries(jobs)) {
    if (!isObj(job)) continue;
    const where = `jobs.${name}`;
    const cond = condition(job.if);
    const parts = cond.split('&&').map((p) =>
      p
        .trim()
        .replace(/^\((.*)\)$/, '$1')
        .trim(),
    );
    if (cond.includes('||') || !parts.includes(CALLED_WORKFLOW_GUARD)) {
      problems.push(
        `${file}: ${where}: if: must be (or and) the guard \${{ ${CALLED_WORKFLOW_GUARD} }}: without it a fork's workflow that calls this one reaches the runners`,
      );
    }
    const steps = Array.isArray(job.steps) ? job.steps.filter(isObj) : [];
    let checked = false;
    steps.forEach((step, i) => {
      const at = `${where}.steps[${i}]${typeof step.name === 'string' ? ` (${step.name})` : ''}`;
      if (
        typeof step.run === 'string' &&
        step.run.includes('[0-9a-f]{40}') &&
        textOf(step.env).includes('inputs.commit')
      )
        checked = true;
      if (!usesAction(step, 'actions/checkout')) return;
      const ref = isObj(step.with) ? textOf(step.with.ref) : '';
      if (!COMMIT_REF.test(ref.trim()))
        problems.push(
          `${file}: ${at}: checkout must take ref: \${{ inputs.${COMMIT_INPUT} }}: without it a called workflow checks out the caller's ref (a pull request's merge commit)`,
        );
      else if (!checked)
        problems.push(
          `${file}: ${at}: a step before the checkout must refuse an inputs.${COMMIT_INPUT} that is not 40 hex digits ([0-9a-f]{40})`,
        );
    });
  }
  return problems;
}

export function workflowProblems(file: string, doc: Json, context: WorkflowContext): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return [`${file}: not a YAML mapping`];
  if (!('permissions' in doc))
    problems.push(`${file}: no top-level permissions: (set permissions: {} and grant per job)`);
  problems.push(...workflowLevelProblems(file, doc, context));
  problems.push(...pairProblems(file, doc, context));
  problems.push(...calledWorkflowProblems(file, doc));
  problems.push(...watchdogProblems(file, doc, context));
  problems.push(...pagesProblems(file, doc));
  problems.push(...variantsProblems(file, doc));
  const isCalled = triggers(doc).includes('workflow_call');
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  if (Object.keys(jobs).length === 0) problems.push(`${file}: no jobs`);
  for (const [jobName, job] of Object.entries(jobs)) {
    const where = `jobs.${jobName}`;
    if (!isObj(job)) {
      problems.push(`${file}: ${where}: not a mapping`);
      continue;
    }
    if (!('permissions' in job))
      problems.push(`${file}: ${where}: no permissions: (least privilege is declared per job)`);
    problems.push(...jobLevelProblems(file, where, job, doc, isCalled));
    if (typeof job.uses === 'string') {
      if (job.uses.startsWith('./'))
        problems.push(
          ...checkCall(file, where, job.uses, job.with, context.reusableWorkflows[job.uses], 'reusable workflow'),
        );
      else if (!PINNED.test(job.uses))
        problems.push(`${file}: ${where}: uses ${job.uses}: pin third-party workflows to a full 40-hex commit`);
    }
    const steps = Array.isArray(job.steps) ? job.steps : [];
    steps.forEach((step, i) => {
      const at = `${where}.steps[${i}]${isObj(step) && typeof step.name === 'string' ? ` (${step.name})` : ''}`;
      if (!isObj(step)) return;
      if (typeof step.run === 'string' && step.run.includes('${{')) {
        problems.push(`${file}: ${at}: run: contains \${{ }}: pass the value through env: and use "$VAR" instead`);
      }
      if (typeof step.uses === 'string') {
        if (step.uses.startsWith('./'))
          problems.push(
            ...checkCall(
              file,
              at,
              step.uses,
              step.with,
              context.localActions[step.uses.replace(/\/$/, '')],
              'local action',
            ),
          );
        else if (step.uses.startsWith('docker://'))
          problems.push(`${file}: ${at}: ${step.uses}: docker actions are not used here`);
        else if (!PINNED.test(step.uses))
          problems.push(
            `${file}: ${at}: uses ${step.uses}: pin third-party actions to a full 40-hex commit (with the tag in a comment)`,
          );
      }
    });
  }
  return problems;
}

// ---- the checkout's variants -----------------------------------------------------------------------

/** The one reader of the checkout's variants for workflows: it knows both files and their schema. */
export const ENVIRONMENTS_CHECK = 'scripts/environments.ts';
const VARIANTS_FILE_IN_RUN = /\b(env\/)?(user-)?variants\.json\b/;
const RUNS_ENVIRONMENTS_CHECK = new RegExp(`\\bnode\\s+${ENVIRONMENTS_CHECK.replace(/[./]/g, '\\$&')}\\b`);

/**
 * A workflow whose dispatch takes an `environments` input checks it with scripts/environments.ts,
 * which knows the built-in variants and the repository's own (env/user-variants.json), checked
 * against their schema; and no step reads a variants file itself (a jq over env/variants.json
 * misses the repository's own, and checks nothing of the file).
 */
export function variantsProblems(file: string, doc: Json): string[] {
  if (!isObj(doc)) return [];
  const problems: string[] = [];
  const on = doc.on ?? doc[true as unknown as string];
  const dispatch = isObj(on) ? on.workflow_dispatch : null;
  const takesEnvironments = isObj(dispatch) && isObj(dispatch.inputs) && 'environments' in dispatch.inputs;
  let checked = false;
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  for (const [jobName, job] of Object.entries(jobs)) {
    const steps = isObj(job) && Array.isArray(job.steps) ? job.steps : [];
    steps.forEach((step, i) => {
      if (!isObj(step) || typeof step.run !== 'string') return;
      const at = `jobs.${jobName}.steps[${i}]${typeof step.name === 'string' ? ` (${step.name})` : ''}`;
      if (RUNS_ENVIRONMENTS_CHECK.test(step.run)) checked = true;
      const read = VARIANTS_FILE_IN_RUN.exec(step.run);
      if (read)
        problems.push(
          `${file}: ${at}: run: reads ${read[0]} itself; check environments with node ${ENVIRONMENTS_CHECK}, the one reader of the checkout's variants (env/variants.json and env/user-variants.json, checked against their schema)`,
        );
    });
  }
  if (takesEnvironments && !checked)
    problems.push(
      `${file}: on.workflow_dispatch.inputs.environments: no step checks it with node ${ENVIRONMENTS_CHECK}, which knows the repository's own variants (env/user-variants.json) besides the built-in ones`,
    );
  return problems;
}

// ---- runner pairs ------------------------------------------------------------------------------

/** A runner label of the pair given to a called workflow: virtnet-server-${{ inputs.pair }} or virtnet-client-${{ inputs.pair }}. */
const PAIR_LABEL = /^virtnet-(server|client)-\$\{\{\s*inputs\.pair\s*\}\}$/;
const expression = (inner: string) => new RegExp(`^\\$\\{\\{\\s*${inner}\\s*\\}\\}$`);
const MATRIX_PAIR_NAME = /\$\{\{\s*matrix\.pair\.name\s*\}\}/;

function groupOf(concurrency: Json): string {
  if (typeof concurrency === 'string') return concurrency;
  return isObj(concurrency) ? textOf(concurrency.group) : '';
}

/**
 * Whether the matrix value `fromJSON(needs.P.outputs.O)` comes from the one list of pairs: job P's
 * output O is a step's `matrix` output, and that step runs scripts/runner-pairs.ts.
 */
function fromPairList(value: Json, jobs: Obj): boolean {
  const m = /^\$\{\{\s*fromJSON\(\s*needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\)\s*\}\}$/.exec(
    textOf(value),
  );
  if (!m) return false;
  const producer = jobs[m[1]!];
  if (!isObj(producer) || !isObj(producer.outputs)) return false;
  const step = /^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.matrix\s*\}\}$/.exec(textOf(producer.outputs[m[2]!]));
  const steps = Array.isArray(producer.steps) ? producer.steps.filter(isObj) : [];
  return (
    step !== null && steps.some((s) => s.id === step[1] && /\bnode\s+scripts\/runner-pairs\.ts\b/.test(textOf(s.run)))
  );
}

/**
 * The pair structure: every self-hosted job runs on its pair's labels; the top-level workflow's
 * measure job is a matrix over the pairs read from the one list (scripts/runner-pairs.ts), in a
 * concurrency group per pair that queues, passing the pair on; a called workflow passes its pair on
 * and measures one environment at a time; no job-level group repeats the workflow's (a deadlock).
 */
export function pairProblems(file: string, doc: Json, context: WorkflowContext): string[] {
  if (!isObj(doc)) return [];
  const problems: string[] = [];
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  const isCalled = triggers(doc).includes('workflow_call');
  const on = doc.on ?? doc[true as unknown as string];
  const callInputs =
    isObj(on) && isObj(on.workflow_call) && isObj(on.workflow_call.inputs) ? on.workflow_call.inputs : {};
  const workflowGroup = groupOf(doc.concurrency);
  for (const [name, job] of Object.entries(jobs)) {
    if (!isObj(job)) continue;
    const where = `${file}: jobs.${name}`;
    const labels = runnerLabels(job);
    if (labels.includes('self-hosted')) {
      if (!labels.some((l) => PAIR_LABEL.test(l)))
        problems.push(
          `${where}: runs-on ${JSON.stringify(labels)} has no pair label (virtnet-server-\${{ inputs.pair }} or virtnet-client-\${{ inputs.pair }}): with several runner pairs a job must run on its own pair's runners`,
        );
      if (!isCalled || !isObj(callInputs.pair) || callInputs.pair.required !== true)
        problems.push(
          `${where}: a self-hosted job belongs in a workflow called once per pair, with a required input pair (measure-pair.yml, measure-environment.yml)`,
        );
    }
    const group = groupOf(job.concurrency);
    if (group !== '' && group === workflowGroup)
      problems.push(
        `${where}: concurrency group ${JSON.stringify(group)} is also the workflow's: GitHub cancels such a run as a deadlock`,
      );
    if (typeof job.uses !== 'string' || !reachesSelfHostedRunner(job.uses, context)) continue;
    const given = isObj(job.with) ? job.with : {};
    const strategy = isObj(job.strategy) ? job.strategy : {};
    const matrix = isObj(strategy.matrix) ? strategy.matrix : {};
    if (isCalled) {
      if (!expression('inputs\\.pair').test(textOf(given.pair)))
        problems.push(`${where}: pass the pair on (with: pair: \${{ inputs.pair }})`);
      if (Object.keys(matrix).length > 0 && strategy['max-parallel'] !== 1)
        problems.push(
          `${where}: a matrix of measurements on one pair needs max-parallel: 1 (one environment at a time on the pair)`,
        );
      continue;
    }
    // The top-level workflow: one entry per pair, from the one list.
    if (!fromPairList(matrix.pair, jobs))
      problems.push(
        `${where}: strategy.matrix.pair must be \${{ fromJSON(needs.<job>.outputs.<name>) }} of a job whose output is the matrix output of a step running node scripts/runner-pairs.ts (the one list of pairs)`,
      );
    if (strategy['max-parallel'] === 1)
      problems.push(
        `${where}: max-parallel: 1 measures the pairs one after another; each pair's own matrix keeps its environments one at a time`,
      );
    if (!expression('matrix\\.pair\\.name').test(textOf(given.pair)))
      problems.push(`${where}: pass the pair on (with: pair: \${{ matrix.pair.name }})`);
    if (!expression('matrix\\.pair\\.server-address').test(textOf(given['server-address'])))
      problems.push(
        `${where}: pass the pair's own server address on (with: server-address: \${{ matrix.pair.server-address }})`,
      );
    const concurrency = isObj(job.concurrency) ? job.concurrency : {};
    if (!MATRIX_PAIR_NAME.test(group))
      problems.push(`${where}: needs a concurrency group per pair (concurrency: group: ...\${{ matrix.pair.name }})`);
    else if (concurrency['cancel-in-progress'] === true || concurrency.queue !== 'max')
      problems.push(
        `${where}: the pair's concurrency group must queue (queue: max, no cancel-in-progress): otherwise a later run's pending measurement is cancelled`,
      );
  }
  return problems;
}

/** An action.yml of this repository: node24, bundled entry points that exist, everything documented. */
export function actionProblems(file: string, doc: Json, fileExists: (relativeToAction: string) => boolean): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return [`${file}: not a YAML mapping`];
  for (const key of ['name', 'description'])
    if (typeof doc[key] !== 'string' || doc[key] === '') problems.push(`${file}: ${key} is missing`);
  const runs = isObj(doc.runs) ? doc.runs : {};
  if (runs.using !== 'node24') problems.push(`${file}: runs.using is ${JSON.stringify(runs.using)}, expected node24`);
  if (runs.main !== 'dist/index.js')
    problems.push(`${file}: runs.main is ${JSON.stringify(runs.main)}, expected dist/index.js`);
  for (const entry of ['main', 'pre', 'post'] as const) {
    const path = runs[entry];
    if (typeof path === 'string' && !fileExists(path))
      problems.push(`${file}: runs.${entry}: ${path} does not exist (run npm run build:actions)`);
  }
  if (runs.post !== undefined && runs['post-if'] !== 'always()')
    problems.push(`${file}: runs.post without post-if: always(): teardown must also run when the job fails`);
  for (const section of ['inputs', 'outputs'] as const) {
    const entries = isObj(doc[section]) ? (doc[section] as Obj) : {};
    for (const [name, spec] of Object.entries(entries)) {
      if (!isObj(spec) || typeof spec.description !== 'string' || spec.description.trim() === '')
        problems.push(`${file}: ${section}.${name} has no description`);
    }
  }
  return problems;
}

// ---- the default branch, by name -------------------------------------------------------------------

/**
 * GitHub reads a push trigger's branch filter before any expression is evaluated, so the default
 * branch is written by name: in every push trigger, and in the PUSH_BRANCH of the step that checks
 * it against the repository's real default branch. All must name one branch, each trigger only that
 * one, and a workflow that checks github.event.repository.default_branch on a push must carry the
 * check (PUSH_BRANCH), or a renamed default branch makes its pushes start nothing, silently.
 */
export function defaultBranchProblems(docs: Record<string, Json>): string[] {
  const problems: string[] = [];
  const names = new Map<string, string[]>();
  const note = (name: string, where: string) => names.set(name, [...(names.get(name) ?? []), where]);
  for (const [file, doc] of Object.entries(docs)) {
    if (!isObj(doc)) continue;
    const push = pushTrigger(doc);
    if (push === null) continue;
    const branches = Array.isArray(push.branches) ? push.branches.map(String) : [];
    if (branches.length !== 1)
      problems.push(
        `${file}: on.push.branches: ${JSON.stringify(branches)}: expected exactly the default branch, by name`,
      );
    branches.forEach((b) => note(b, `${file} on.push.branches`));
    const jobs = isObj(doc.jobs) ? doc.jobs : {};
    let checksDefault = false;
    let carriesPushBranch = false;
    for (const [jobName, job] of Object.entries(jobs)) {
      const steps = isObj(job) && Array.isArray(job.steps) ? job.steps.filter(isObj) : [];
      steps.forEach((step, i) => {
        const env = isObj(step.env) ? step.env : {};
        if (
          Object.values(env).some((v) => /github\.event\.repository\.default_branch/.test(textOf(v))) &&
          /\$DEFAULT_BRANCH\b/.test(textOf(step.run))
        )
          checksDefault = true;
        if (typeof env.PUSH_BRANCH === 'string') {
          carriesPushBranch = true;
          if (!/"\$PUSH_BRANCH"/.test(textOf(step.run)))
            problems.push(
              `${file}: jobs.${jobName}.steps[${i}]: PUSH_BRANCH is set but the step does not compare it with the default branch`,
            );
          note(env.PUSH_BRANCH, `${file} jobs.${jobName}.steps[${i}] PUSH_BRANCH`);
        }
      });
    }
    if (checksDefault && !carriesPushBranch)
      problems.push(
        `${file}: checks the default branch but carries no PUSH_BRANCH: after a rename of the default branch its pushes start nothing and nobody is told; compare PUSH_BRANCH (the name on.push.branches gives) with github.event.repository.default_branch`,
      );
  }
  if (names.size > 1)
    problems.push(
      `workflows name different default branches: ${[...names].map(([n, w]) => `${n} (${w.join(', ')})`).join('; ')}`,
    );
  return problems;
}

// ---- the queue watchdog ----------------------------------------------------------------------------

/**
 * A top-level workflow whose jobs reach self-hosted runners has a queue watchdog: a job on a
 * GitHub-hosted runner that runs scripts/queue-watchdog.ts beside the measurements (it needs no job
 * that reaches a self-hosted runner, so it runs while they wait), with its bound set in the workflow
 * (QUEUE_BOUND_MINUTES, minutes) and within a hosted job's 6 hours; and a job that cancels the run
 * (gh run cancel) when the watchdog's output says so. Without it, a job for an offline runner waits
 * 24-48 hours and the pair's later legs wait after it.
 */
export function watchdogProblems(file: string, doc: Json, context: WorkflowContext): string[] {
  if (!isObj(doc) || triggers(doc).includes('workflow_call')) return [];
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  const reaching = Object.entries(jobs)
    .filter(([, job]) => isObj(job) && typeof job.uses === 'string' && reachesSelfHostedRunner(job.uses, context))
    .map(([name]) => name);
  if (reaching.length === 0) return [];
  const stepsOf = (job: Obj) => (Array.isArray(job.steps) ? job.steps.filter(isObj) : []);
  const watchers = Object.entries(jobs).filter(
    ([, job]) => isObj(job) && stepsOf(job).some((st) => /\bnode\s+scripts\/queue-watchdog\.ts\b/.test(textOf(st.run))),
  );
  if (watchers.length === 0)
    return [
      `${file}: no queue watchdog: a job for an offline self-hosted runner stays queued 24-48 hours and the pair's later legs wait behind it; add a job running node scripts/queue-watchdog.ts beside the measurements`,
    ];
  const problems: string[] = [];
  const [name, watcher] = watchers[0] as [string, Obj];
  const where = `${file}: jobs.${name}`;
  if (runnerLabels(watcher).includes('self-hosted'))
    problems.push(
      `${where}: the watchdog must run on a GitHub-hosted runner: a self-hosted one may be the runner that is offline`,
    );
  const needs = Array.isArray(watcher.needs)
    ? watcher.needs.map(String)
    : typeof watcher.needs === 'string'
      ? [watcher.needs]
      : [];
  const late = needs.filter((n) => reaching.includes(n));
  if (late.length > 0)
    problems.push(
      `${where}: needs ${late.join(', ')}: the watchdog would start only after the measurements it must watch`,
    );
  const timeout = watcher['timeout-minutes'];
  if (typeof timeout !== 'number' || timeout > 360)
    problems.push(
      `${where}: timeout-minutes ${JSON.stringify(timeout)}: a GitHub-hosted job runs at most 360 minutes; set it`,
    );
  const step = stepsOf(watcher).find((st) => /\bnode\s+scripts\/queue-watchdog\.ts\b/.test(textOf(st.run)))!;
  const bound = isObj(step.env) ? textOf(step.env.QUEUE_BOUND_MINUTES) : '';
  if (!/^[1-9][0-9]*$/.test(bound))
    problems.push(
      `${where}: the watchdog's bound is set in the workflow: env QUEUE_BOUND_MINUTES, whole minutes (default 30), got ${JSON.stringify(bound)}`,
    );
  const cancels = Object.values(jobs).some(
    (job) =>
      isObj(job) &&
      (job.needs === name || (Array.isArray(job.needs) && job.needs.includes(name))) &&
      textOf(job.if).includes(`needs.${name}.outputs.`) &&
      stepsOf(job).some((st) => /\bgh\s+run\s+cancel\b/.test(textOf(st.run))),
  );
  if (!cancels)
    problems.push(
      `${where}: no job cancels the run when the watchdog says so (needs: ${name}, if: on its output, a step running gh run cancel)`,
    );
  return problems;
}

// ---- a site that only moves forward ----------------------------------------------------------------

/**
 * The job that deploys Pages in a workflow that commits runs (a step runs scripts/commit-run.sh):
 * it runs after the commit job; it is in a concurrency group that queues and never cancels; it
 * checks out the default branch (the tip's code and runs together) and builds the site itself,
 * uploading it in the same job (so a re-run rebuilds from the tip, never redeploys an older
 * artifact); and it runs scripts/site-state.sh fetch before and record after rendering, deploying
 * only on record's deploy output.
 */
export function pagesProblems(file: string, doc: Json): string[] {
  if (!isObj(doc)) return [];
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  const stepsOf = (job: Json) => (isObj(job) && Array.isArray(job.steps) ? job.steps.filter(isObj) : []);
  const committer = Object.entries(jobs).find(([, job]) =>
    stepsOf(job).some((st) => /commit-run\.sh/.test(textOf(st.run))),
  )?.[0];
  if (committer === undefined) return [];
  const problems: string[] = [];
  for (const [name, job] of Object.entries(jobs)) {
    const steps = stepsOf(job);
    const deployAt = steps.findIndex((st) => usesAction(st, 'actions/deploy-pages'));
    if (!isObj(job) || deployAt < 0) continue;
    const where = `${file}: jobs.${name}`;
    const needs = Array.isArray(job.needs) ? job.needs.map(String) : typeof job.needs === 'string' ? [job.needs] : [];
    if (!needs.includes(committer))
      problems.push(
        `${where}: the site must be built after the commit job (needs: ${committer}), from the tip it pushed to`,
      );
    const concurrency = isObj(job.concurrency) ? job.concurrency : {};
    if (
      groupOf(job.concurrency) === '' ||
      /\$\{\{/.test(groupOf(job.concurrency)) ||
      concurrency['cancel-in-progress'] === true ||
      concurrency.queue !== 'max'
    ) {
      problems.push(
        `${where}: one fixed concurrency group for every run's deployment, queueing (queue: max, no cancel-in-progress), so two runs never build and deploy side by side`,
      );
    }
    const checkout = steps.find((st) => usesAction(st, 'actions/checkout'));
    const ref = checkout && isObj(checkout.with) ? textOf(checkout.with.ref) : '';
    if (!/github\.event\.repository\.default_branch/.test(ref))
      problems.push(
        `${where}: check out the default branch (ref: \${{ github.event.repository.default_branch }}): the tip's code renders the tip's runs`,
      );
    const uploadAt = steps.findIndex((st) => usesAction(st, 'actions/upload-pages-artifact'));
    if (uploadAt < 0 || uploadAt > deployAt)
      problems.push(
        `${where}: build and upload the site in this job: a re-run must rebuild from the tip, not redeploy an older attempt's artifact`,
      );
    const fetchAt = steps.findIndex((st) => /site-state\.sh\s+fetch\b/.test(textOf(st.run)));
    const record = steps.findIndex((st) => /site-state\.sh\s+record\b/.test(textOf(st.run)));
    if (fetchAt < 0 || record < 0 || fetchAt > record)
      problems.push(
        `${where}: run scripts/site-state.sh fetch (the deployed state, the pending runs) before rendering and record after it`,
      );
    else {
      const gate = typeof steps[record]!.id === 'string' ? steps[record]!.id : '';
      const guarded = (st: Obj) =>
        gate !== '' && new RegExp(`steps\\.${gate}\\.outputs\\.deploy\\s*==\\s*'true'`).test(textOf(st.if));
      if (!guarded(steps[deployAt]!) || (uploadAt >= 0 && !guarded(steps[uploadAt]!)))
        problems.push(
          `${where}: upload and deploy only when site-state.sh record says deploy (if: steps.<id>.outputs.deploy == 'true'), so an older tip never replaces a newer site`,
        );
    }
  }
  return problems;
}
