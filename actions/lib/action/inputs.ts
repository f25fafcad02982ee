// Action inputs -> typed settings, one parser per action. Pure: inputs come through an InputReader
// (in an action, core.getInput; in tests, a plain object), and every bad value is an InputError
// naming the input and the value ("input NAME: ..."), so a wrong `with:` in a workflow is fixed
// from the log alone. The checks themselves are the library's (core/input.ts, the diff's options,
// the serve protocol's limits), shared with the command line.

import { InputError, oneOf, phrase, quoted, wholeNumber } from '../core/input.ts';
import { IPV4_ADDRESS } from '../core/schema.ts';
import { alphaFrom, DEFAULT_DIFF_OPTIONS, thresholdFrom } from '../diff/diff.ts';
import { acceleratorRequest } from '../measure/environment.ts';
import { pairNameFrom } from '../measure/runner-pairs.ts';
import {
  releaseKeyFrom,
  runKeyFrom,
  SERVE_DEFAULTS,
  SERVE_LIMITS,
  type ServeRequest,
} from '../measure/serve-protocol.ts';

export { InputError };

/** Reads an input by name; returns '' when it is not set (as core.getInput does). */
export type InputReader = (name: string) => string;

/**
 * The environments a checkout knows, each with its base (native, docker, kvm, osv, command): the
 * four, the built-in variants and the repository's own (env/variants.ts reads them). The actions
 * take them from the checkout they run in, so a variant committed there needs no code here.
 */
export type EnvironmentBases = Readonly<Record<string, string>>;

/** Reads the environments of the checkout at a directory; its InputError names the variants file. */
export type EnvironmentsOfCheckout = (checkoutDir: string) => EnvironmentBases;

/** A reader over a plain object, for tests and for scripts that call an action's logic directly. */
export function readerFrom(values: Record<string, string | undefined>): InputReader {
  return (name) => (values[name] ?? '').trim();
}

function inputError(name: string, problem: string): InputError {
  return new InputError(name, problem, phrase(`input ${name}`, problem));
}

/**
 * Runs a library check on the value of input `name`: its InputError is worded as the input's.
 */
function asInput<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof InputError) throw inputError(name, e.problem);
    throw e;
  }
}

export function requiredInput(read: InputReader, name: string): string {
  const value = read(name);
  if (value === '') throw inputError(name, 'is required but was not given');
  return value;
}

export function optionalInput(read: InputReader, name: string): string | null {
  const value = read(name);
  return value === '' ? null : value;
}

export function intInput(
  read: InputReader,
  name: string,
  range: { min: number; max: number; fallback: number },
): number {
  const value = read(name);
  if (value === '') return range.fallback;
  return asInput(name, () => wholeNumber(name, value, range));
}

/** Like intInput, but '' stays null (for overrides that default to the plan's own value). */
export function optionalIntInput(read: InputReader, name: string, range: { min: number; max: number }): number | null {
  return read(name) === '' ? null : intInput(read, name, { ...range, fallback: 0 });
}

/** YAML 1.2 core schema booleans, as the Actions toolkit accepts them, and nothing else. */
export function boolInput(read: InputReader, name: string, fallback: boolean): boolean {
  const value = read(name);
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw inputError(name, `expected true or false, got ${quoted(value)}`);
}

export function choiceInput<T extends string>(read: InputReader, name: string, choices: readonly T[], fallback: T): T {
  const value = read(name);
  if (value === '') return fallback;
  return asInput(name, () => oneOf(name, value, choices));
}

/** An environment name from the registry's list (passed in, so this module stays free of drivers). */
export function environmentInput(read: InputReader, name: string, known: readonly string[]): string {
  const value = requiredInput(read, name);
  if (!known.includes(value))
    throw inputError(name, `unknown environment ${quoted(value)}: expected one of ${known.join(', ')}`);
  return value;
}

/** netperf runs with -4: the server address must be a dotted IPv4 address, not a host name. */
export function ipv4Input(read: InputReader, name: string, fallback: string | null): string {
  const value = read(name);
  if (value === '') {
    if (fallback === null) return requiredInput(read, name);
    return fallback;
  }
  if (!IPV4_ADDRESS.re.test(value))
    throw inputError(name, `expected an IPv4 address such as 198.18.0.1, got ${quoted(value)}`);
  return value;
}

export function portInput(read: InputReader, name: string, fallback: number, allowZero = false): number {
  return intInput(read, name, { ...(allowZero ? SERVE_LIMITS.coordinatorPort : SERVE_LIMITS.port), fallback });
}

/** An artifact or file-name-safe label: letters, digits, dot, dash, underscore. */
export function nameInput(read: InputReader, name: string, fallback: string): string {
  const value = read(name) || fallback;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(value))
    throw inputError(name, `expected 1-100 letters, digits, '.', '-' or '_', got ${quoted(value)}`);
  return value;
}

/** The workflow's run key: names a run (its directory, artifacts, the coordinator's run); '' is none. */
export function runKeyInput(read: InputReader, name: string): string | null {
  const value = read(name);
  if (value === '') return null;
  return asInput(name, () => runKeyFrom(name, value));
}

/** A per-run secret: letters and digits only, never quoted back (it would land in the log). */
export function secretInput(read: InputReader, name: string): string | null {
  const value = read(name);
  if (value === '') return null;
  return asInput(name, () => releaseKeyFrom(name, value));
}

/** What the runner provides to every action step (GITHUB_WORKSPACE, RUNNER_TEMP, ...). */
export interface RunnerContext {
  workspace: string;
  temp: string;
}

export function runnerContext(env: NodeJS.ProcessEnv): RunnerContext {
  const workspace = env.GITHUB_WORKSPACE;
  if (!workspace)
    throw new InputError(
      'GITHUB_WORKSPACE',
      'is not set',
      'GITHUB_WORKSPACE is not set: run this action from a workflow (or set it to the virtnet checkout)',
    );
  return { workspace, temp: env.RUNNER_TEMP || '/tmp' };
}

function resolvePath(path: string, base: string): string {
  return path.startsWith('/') ? path : `${base.replace(/\/+$/, '')}/${path}`;
}

// ---------------------------------------------------------------------------------------------
// start-environment

/**
 * What `virtnet serve` is started with (the serve protocol's request), plus what only the action
 * needs. Its defaults and limits are the serve protocol's.
 */
export interface StartEnvironmentSettings extends ServeRequest {
  /** Which environment to start: native, docker, kvm or osv. */
  environment: string;
  /** The server's testbed address that netserver (or its port map) answers on. */
  serverAddress: string;
  /** Testbed index: names the server-side bridge and tap of QEMU guests (vnet<i>br, vnet<i>tap). */
  testbedIndex: number;
  /** TCP port on serverAddress where the run-sweep action asks which environment is live and releases it; 0 disables. */
  coordinatorPort: number;
  /** Upper bound on how long the environment stays up if the post step never comes. */
  holdTimeoutMinutes: number;
  /**
   * 0: return as soon as the environment is ready; N: then also wait up to N minutes for the
   * client's release; 'plan': the plan's worst-case sweep time with the stated margin (waits.ts).
   */
  waitForRelease: number | 'plan';
  /** The sweep plan (a built-in name or a file in the workspace) with its overrides: for wait-for-release: plan. */
  plan: { name: string; replicates: number | null; testLengthSeconds: number | null } | null;
  /** A command run before the environment starts (the host's preparation), while the coordinator sends heartbeats. */
  prepare: string | null;
  prepareTimeoutMinutes: number;
  /** The virtnet checkout whose scripts/virtnet.ts serves the environment. */
  virtnetDir: string;
  logFile: string;
  /** Minutes after ready within which a client must ask for status, else the step fails; 0: no deadline. */
  clientDeadlineMinutes: number;
  /** The run this environment serves: a client of another run never measures it. */
  runKey: string | null;
  /** The per-run secret a client must present to release the environment. */
  releaseKey: string | null;
  /** The job that must run with this one (the client); a re-run without it fails at once. */
  partnerJob: string | null;
  /** Token for the jobs API (the lone re-run check). */
  githubToken: string | null;
}

/** A built-in plan name, or a plan file inside the workspace (no absolute path, no '..' segment). */
function planInput(read: InputReader, name: string, runner: RunnerContext): string {
  const plan = requiredInput(read, name);
  if (plan.startsWith('/') || plan.split('/').includes('..'))
    throw inputError(name, `expected a built-in plan name or a path inside the workspace, got ${quoted(plan)}`);
  return /^[a-z0-9-]+$/.test(plan) ? plan : resolvePath(plan, runner.workspace);
}

/** The plan and its overrides (start-environment's plan, replicates, test-length); null without a plan. */
function planOverrides(read: InputReader, runner: RunnerContext): StartEnvironmentSettings['plan'] {
  const replicates = optionalIntInput(read, 'replicates', { min: 1, max: 1000 });
  const testLengthSeconds = optionalIntInput(read, 'test-length', { min: 1, max: 3600 });
  return read('plan') === '' ? null : { name: planInput(read, 'plan', runner), replicates, testLengthSeconds };
}

export function parseStartEnvironmentInputs(
  read: InputReader,
  runner: RunnerContext,
  environmentsOf: EnvironmentsOfCheckout,
): StartEnvironmentSettings {
  if (read('wait-for-release') === 'plan' && read('plan') === '')
    throw inputError('wait-for-release', "is 'plan', but no plan input says which plan");
  // The checkout that serves the environment knows its variants (its own env/user-variants.json too).
  const virtnetDir = resolvePath(read('virtnet-dir') || runner.workspace, runner.workspace);
  const bases = environmentsOf(virtnetDir);
  const environment = environmentInput(read, 'environment', Object.keys(bases));
  const testbedIndex = intInput(read, 'testbed-index', {
    ...SERVE_LIMITS.testbedIndex,
    fallback: SERVE_DEFAULTS.testbedIndex,
  });
  const osvImage = optionalInput(read, 'osv-image');
  if (bases[environment] === 'osv' && osvImage === null)
    throw inputError('osv-image', `is required for environment ${environment} (the build-osv-image action outputs it)`);
  const accel = read('accel');
  return {
    environment,
    serverAddress: ipv4Input(read, 'server-address', null),
    testbedIndex,
    controlPort: portInput(read, 'control-port', SERVE_DEFAULTS.controlPort),
    dataPort: portInput(read, 'data-port', SERVE_DEFAULTS.dataPort),
    coordinatorPort: portInput(read, 'coordinator-port', SERVE_DEFAULTS.coordinatorPort, true),
    readyTimeoutSeconds: intInput(read, 'ready-timeout', {
      ...SERVE_LIMITS.readyTimeoutSeconds,
      fallback: SERVE_DEFAULTS.readyTimeoutSeconds,
    }),
    holdTimeoutMinutes: intInput(read, 'hold-timeout', {
      ...SERVE_LIMITS.holdTimeoutMinutes,
      fallback: SERVE_DEFAULTS.holdTimeoutMinutes,
    }),
    waitForRelease:
      read('wait-for-release') === 'plan'
        ? 'plan'
        : intInput(read, 'wait-for-release', { min: 0, max: 24 * 60, fallback: 0 }),
    plan: planOverrides(read, runner),
    prepare: optionalInput(read, 'prepare'),
    prepareTimeoutMinutes: intInput(read, 'prepare-timeout', { min: 1, max: 6 * 60, fallback: 30 }),
    accelerator: accel === '' ? SERVE_DEFAULTS.accelerator : asInput('accel', () => acceleratorRequest('accel', accel)),
    osvImage: osvImage === null ? null : resolvePath(osvImage, runner.workspace),
    virtnetDir,
    endpointFile: `${runner.temp}/virtnet-endpoint-${environment}.json`,
    logFile: `${runner.temp}/virtnet-serve-${environment}.log`,
    clientDeadlineMinutes: intInput(read, 'client-deadline', { min: 0, max: 24 * 60, fallback: 0 }),
    runKey: runKeyInput(read, 'run-key'),
    releaseKey: secretInput(read, 'release-key'),
    partnerJob: optionalInput(read, 'partner-job'),
    githubToken: optionalInput(read, 'github-token'),
  };
}

// ---------------------------------------------------------------------------------------------
// run-sweep

export interface RunSweepSettings {
  environment: string;
  serverAddress: string;
  /** 0: no coordinator; measure whatever answers on the ports. */
  coordinatorPort: number;
  /** Tell the server it may tear the environment down once the sweep ends (also on failure). */
  release: boolean;
  /** Built-in plan name (quick, paper) or a plan file relative to the workspace. */
  plan: string;
  replicates: number | null;
  testLengthSeconds: number | null;
  /** Run directory: created if new, appended to (a new environment, or the missing points) if it holds a run. */
  runDir: string;
  /** Seconds without a sign of the server (a heartbeat, or the environment itself) before the client gives up. */
  readyTimeoutSeconds: number;
  /** Seconds the client waits for a ready environment in all, heartbeats or not. */
  readyLimitSeconds: number;
  /** Artifact name for the run directory; '' never happens: defaults to virtnet-run-<environment>. */
  artifactName: string;
  upload: boolean;
  virtnetDir: string;
  /** This run's key: the coordinator must say its environment serves this run. */
  runKey: string | null;
  /** The per-run secret the coordinator asks for to release. */
  releaseKey: string | null;
  /** The job that must run with this one (the server); a re-run without it fails at once. */
  partnerJob: string | null;
  /** Token for the jobs API (the lone re-run check). */
  githubToken: string | null;
  /** The runner pair that measures (manifest.runnerPair); null: none named. */
  runnerPair: string | null;
}

export function parseRunSweepInputs(
  read: InputReader,
  runner: RunnerContext,
  environmentsOf: EnvironmentsOfCheckout,
): RunSweepSettings {
  // The checkout knows the environments: its built-in variants and its own (env/user-variants.json).
  const virtnetDir = resolvePath(read('virtnet-dir') || runner.workspace, runner.workspace);
  const environment = environmentInput(read, 'environment', Object.keys(environmentsOf(virtnetDir)));
  const plan = planInput(read, 'plan', runner);
  return {
    environment,
    serverAddress: ipv4Input(read, 'server-address', null),
    coordinatorPort: portInput(read, 'coordinator-port', 12867, true),
    release: boolInput(read, 'release', true),
    plan,
    replicates: optionalIntInput(read, 'replicates', { min: 1, max: 1000 }),
    testLengthSeconds: optionalIntInput(read, 'test-length', { min: 1, max: 3600 }),
    runDir: resolvePath(read('run-dir') || `${runner.temp}/virtnet-run`, runner.workspace),
    readyTimeoutSeconds: intInput(read, 'ready-timeout', { min: 1, max: 24 * 3600, fallback: 900 }),
    readyLimitSeconds: intInput(read, 'ready-limit', { min: 1, max: 24 * 3600, fallback: 3600 }),
    artifactName: nameInput(read, 'artifact-name', `virtnet-run-${environment}`),
    upload: boolInput(read, 'upload', true),
    virtnetDir,
    runKey: runKeyInput(read, 'run-key'),
    releaseKey: secretInput(read, 'release-key'),
    partnerJob: optionalInput(read, 'partner-job'),
    githubToken: optionalInput(read, 'github-token'),
    runnerPair: optionalPairInput(read, 'runner-pair'),
  };
}

/** A runner pair's name (runner-pairs.ts); '' is none. */
export function optionalPairInput(read: InputReader, name: string): string | null {
  const value = read(name);
  return value === '' ? null : asInput(name, () => pairNameFrom(name, value));
}

// ---------------------------------------------------------------------------------------------
// render-report

export interface RenderReportSettings {
  /** A run directory, or a directory searched (two levels deep) for run directories. */
  runsPath: string;
  /** The committed reports folder: each run goes to <reportsDir>/runs/<run id>/. */
  reportsDir: string;
  /** If set, the static site is built there from every run under <reportsDir>/runs. */
  siteDir: string | null;
  /** Where the site is published (https, no trailing slash): the job summary links each run's page and shows its key figure. */
  siteUrl: string | null;
  /** The environments the workflow measured: one with no data in a run is named as missing. */
  environments: string[];
  /** The claims judged: a built-in name (env/plans/<name>-claims.json of the workspace) or a claims file. */
  claims: ClaimsInput;
}

/** A claims file named by an input: a built-in name, looked up in `dir`, or a path. */
export interface ClaimsInput {
  nameOrPath: string;
  dir: string;
}

function claimsInput(read: InputReader, runner: RunnerContext): ClaimsInput {
  const text = read('claims') || 'paper';
  return {
    nameOrPath: /^[a-z0-9-]+$/.test(text) ? text : resolvePath(text, runner.workspace),
    dir: resolvePath('env/plans', runner.workspace),
  };
}

function siteUrlInput(read: InputReader): string | null {
  const text = optionalInput(read, 'site-url');
  if (text === null) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw inputError('site-url', `expected the published site's https URL, got ${quoted(text)}`);
  }
  if (url.protocol !== 'https:' || url.search || url.hash)
    throw inputError('site-url', `expected an https URL without query or fragment, got ${quoted(text)}`);
  return url.href.replace(/\/+$/, '');
}

export function parseRenderReportInputs(read: InputReader, runner: RunnerContext): RenderReportSettings {
  const siteDir = optionalInput(read, 'site-dir');
  const environments = read('environments')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const e of environments)
    if (!/^[a-z0-9-]{1,40}$/.test(e))
      throw inputError('environments', `expected comma-separated environment names, got ${quoted(e)}`);
  return {
    runsPath: resolvePath(requiredInput(read, 'runs'), runner.workspace),
    reportsDir: resolvePath(read('reports-dir') || 'reports', runner.workspace),
    siteDir: siteDir === null ? null : resolvePath(siteDir, runner.workspace),
    siteUrl: siteUrlInput(read),
    environments,
    claims: claimsInput(read, runner),
  };
}

// ---------------------------------------------------------------------------------------------
// diff-results

export const DIFF_FORMATS = ['markdown', 'text', 'json'] as const;

export interface DiffResultsSettings {
  /** The baseline: a run directory, a commit/ref whose run is committed under reports/runs, previous or pr-base. */
  baseline: string;
  /** The new results, named the same ways. */
  current: string;
  /** Relative change (percent) beyond which a significant change counts as improved or regressed. */
  thresholdPercent: number;
  /** Significance level of the per-point test (Holm-corrected). */
  alpha: number;
  failOnRegression: boolean;
  /** Format of the diff file output (the job summary is always markdown). */
  format: (typeof DIFF_FORMATS)[number];
  /** The git checkout whose history holds the committed runs (refs, previous, pr-base). */
  repoDir: string;
  /** Where to write the diff page and overlay charts; null: none. */
  pageDir: string | null;
  /** The claims whose verdicts are compared. */
  claims: ClaimsInput;
}

export function parseDiffResultsInputs(read: InputReader, runner: RunnerContext): DiffResultsSettings {
  const threshold = read('threshold');
  const alpha = read('alpha');
  const pageDir = optionalInput(read, 'page-dir');
  return {
    // Kept as given: a run directory is told from a ref by looking at the disk, which main does.
    baseline: requiredInput(read, 'baseline'),
    current: requiredInput(read, 'current'),
    thresholdPercent:
      threshold === ''
        ? DEFAULT_DIFF_OPTIONS.thresholdPercent
        : asInput('threshold', () => thresholdFrom('threshold', threshold)),
    alpha: alpha === '' ? DEFAULT_DIFF_OPTIONS.alpha : asInput('alpha', () => alphaFrom('alpha', alpha)),
    failOnRegression: boolInput(read, 'fail-on-regression', false),
    format: choiceInput(read, 'format', DIFF_FORMATS, 'markdown'),
    repoDir: resolvePath(read('repository') || runner.workspace, runner.workspace),
    pageDir: pageDir === null ? null : resolvePath(pageDir, runner.workspace),
    claims: claimsInput(read, runner),
  };
}

// ---------------------------------------------------------------------------------------------
// build-osv-image

/** env/osv's image variants (kept here as names so this module stays free of the build code). */
export const OSV_VARIANTS = ['netperf-app', 'host-netserver'] as const;

export interface BuildOsvImageSettings {
  /** Full 40-hex OSv commit: the image is reproducible only from a pinned commit. */
  osvCommit: string;
  /** netperf-app: the upstream app (netperf 2.7.0 built into the image, as in the paper); host-netserver: the host's binary. */
  variant: (typeof OSV_VARIANTS)[number];
  /** Where built images are kept, keyed by their inputs; persists on a self-hosted runner. */
  cacheDir: string;
  /** Where the OSv source is checked out for a build. */
  workDir: string;
  jobs: number;
  /** Fail instead of building when the cache misses (for runners without internet). */
  cacheOnly: boolean;
}

export function parseBuildOsvImageInputs(
  read: InputReader,
  runner: RunnerContext,
  defaultCommit: string,
): BuildOsvImageSettings {
  const commit = read('osv-commit') || defaultCommit;
  if (!/^[0-9a-f]{40}$/.test(commit))
    throw inputError('osv-commit', `expected a full 40-hex commit id, got ${quoted(commit)}`);
  return {
    osvCommit: commit,
    variant: choiceInput(read, 'variant', OSV_VARIANTS, 'netperf-app'),
    cacheDir: resolvePath(read('cache-dir') || '/var/cache/virtnet/osv', runner.workspace),
    workDir: resolvePath(read('work-dir') || `${runner.temp}/osv-src`, runner.workspace),
    jobs: intInput(read, 'jobs', { min: 1, max: 256, fallback: 2 }),
    cacheOnly: boolInput(read, 'cache-only', false),
  };
}
