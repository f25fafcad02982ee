// virtnet's own rules for its workflows and actions, beyond what a linter knows: the security
// rules of the project (no expressions inside run:, third-party actions pinned to full commits,
// least-privilege permissions on every job, a fork guard on every self-hosted job) and the
// consistency of local action and reusable-workflow calls with their declared inputs. Pure: takes
// parsed YAML, returns problems as "file: where: what" lines.

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const FORK_GUARD = 'github.event.pull_request.head.repo.full_name == github.repository';
const PINNED = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._/-]+)?@[0-9a-f]{40}$/;

export interface LocalAction {
  inputs: Record<string, { required: boolean; hasDefault: boolean }>;
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
    inputs[name] = { required: isObj(spec) && spec.required === true, hasDefault: isObj(spec) && spec.default !== undefined && spec.default !== '' };
  }
  return { inputs };
}

export function describeReusableWorkflow(doc: Json): LocalAction | null {
  const on = isObj(doc) ? doc.on : null;
  if (!isObj(on) || !('workflow_call' in on)) return null;
  const call = on.workflow_call;
  return describeAction(isObj(call) ? { inputs: call.inputs } : {});
}

function checkCall(file: string, where: string, uses: string, withBlock: Json, target: LocalAction | undefined, kind: string): string[] {
  if (!target) return [`${file}: ${where}: ${kind} ${uses} does not exist`];
  const problems: string[] = [];
  const given = isObj(withBlock) ? Object.keys(withBlock) : [];
  for (const key of given) if (!(key in target.inputs)) problems.push(`${file}: ${where}: ${uses} has no input ${key} (it has: ${Object.keys(target.inputs).join(', ')})`);
  for (const [name, spec] of Object.entries(target.inputs)) {
    if (spec.required && !spec.hasDefault && !given.includes(name)) problems.push(`${file}: ${where}: ${uses} needs input ${name}`);
  }
  return problems;
}

export function workflowProblems(file: string, doc: Json, context: WorkflowContext): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return [`${file}: not a YAML mapping`];
  if (!('permissions' in doc)) problems.push(`${file}: no top-level permissions: (set permissions: {} and grant per job)`);
  const jobs = isObj(doc.jobs) ? doc.jobs : {};
  if (Object.keys(jobs).length === 0) problems.push(`${file}: no jobs`);
  for (const [jobName, job] of Object.entries(jobs)) {
    const where = `jobs.${jobName}`;
    if (!isObj(job)) {
      problems.push(`${file}: ${where}: not a mapping`);
      continue;
    }
    if (!('permissions' in job)) problems.push(`${file}: ${where}: no permissions: (least privilege is declared per job)`);
    const runsOn = job['runs-on'];
    const labels = Array.isArray(runsOn) ? runsOn.map(String) : typeof runsOn === 'string' ? [runsOn] : [];
    if (labels.includes('self-hosted')) {
      const guard = typeof job.if === 'string' ? job.if : '';
      if (!guard.includes(FORK_GUARD)) problems.push(`${file}: ${where}: runs on a self-hosted runner without the fork guard in if: (${FORK_GUARD})`);
    }
    if (typeof job.uses === 'string') {
      if (job.uses.startsWith('./')) problems.push(...checkCall(file, where, job.uses, job.with, context.reusableWorkflows[job.uses], 'reusable workflow'));
      else if (!PINNED.test(job.uses)) problems.push(`${file}: ${where}: uses ${job.uses}: pin third-party workflows to a full 40-hex commit`);
    }
    const steps = Array.isArray(job.steps) ? job.steps : [];
    steps.forEach((step, i) => {
      const at = `${where}.steps[${i}]${isObj(step) && typeof step.name === 'string' ? ` (${step.name})` : ''}`;
      if (!isObj(step)) return;
      if (typeof step.run === 'string' && step.run.includes('${{')) {
        problems.push(`${file}: ${at}: run: contains \${{ }}: pass the value through env: and use "$VAR" instead`);
      }
      if (typeof step.uses === 'string') {
        if (step.uses.startsWith('./')) problems.push(...checkCall(file, at, step.uses, step.with, context.localActions[step.uses.replace(/\/$/, '')], 'local action'));
        else if (step.uses.startsWith('docker://')) problems.push(`${file}: ${at}: ${step.uses}: docker actions are not used here`);
        else if (!PINNED.test(step.uses)) problems.push(`${file}: ${at}: uses ${step.uses}: pin third-party actions to a full 40-hex commit (with the tag in a comment)`);
      }
    });
  }
  return problems;
}

/** An action.yml of this repository: node24, bundled entry points that exist, everything documented. */
export function actionProblems(file: string, doc: Json, fileExists: (relativeToAction: string) => boolean): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return [`${file}: not a YAML mapping`];
  for (const key of ['name', 'description']) if (typeof doc[key] !== 'string' || doc[key] === '') problems.push(`${file}: ${key} is missing`);
  const runs = isObj(doc.runs) ? doc.runs : {};
  if (runs.using !== 'node24') problems.push(`${file}: runs.using is ${JSON.stringify(runs.using)}, expected node24`);
  if (runs.main !== 'dist/index.js') problems.push(`${file}: runs.main is ${JSON.stringify(runs.main)}, expected dist/index.js`);
  for (const entry of ['main', 'pre', 'post'] as const) {
    const path = runs[entry];
    if (typeof path === 'string' && !fileExists(path)) problems.push(`${file}: runs.${entry}: ${path} does not exist (run npm run build:actions)`);
  }
  if (runs.post !== undefined && runs['post-if'] !== 'always()') problems.push(`${file}: runs.post without post-if: always(): teardown must also run when the job fails`);
  for (const section of ['inputs', 'outputs'] as const) {
    const entries = isObj(doc[section]) ? (doc[section] as Obj) : {};
    for (const [name, spec] of Object.entries(entries)) {
      if (!isObj(spec) || typeof spec.description !== 'string' || spec.description.trim() === '') problems.push(`${file}: ${section}.${name} has no description`);
    }
  }
  return problems;
}
