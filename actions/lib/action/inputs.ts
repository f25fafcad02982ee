// Action inputs -> typed settings, one parser per action. Pure: inputs come through an InputReader
// (in an action, core.getInput; in tests, a plain object), and every bad value is an InputError
// naming the input and the value, so a wrong `with:` in a workflow is fixed from the log alone.

/** Reads an input by name; returns '' when it is not set (as core.getInput does). */
export type InputReader = (name: string) => string;

/**
 * The environments an action may name. The actions do not bundle the drivers (the server's checkout
 * runs them), so the names are listed here; a test keeps this list a superset of env/registry.ts.
 */
export const ENVIRONMENT_NAMES = ['native', 'docker', 'kvm', 'osv'] as const;

export class InputError extends Error {
  override name = 'InputError';
}

/** A reader over a plain object, for tests and for scripts that call an action's logic directly. */
export function readerFrom(values: Record<string, string | undefined>): InputReader {
  return (name) => (values[name] ?? '').trim();
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

export function requiredInput(read: InputReader, name: string): string {
  const value = read(name);
  if (value === '') throw new InputError(`input ${name} is required but was not given`);
  return value;
}

export function optionalInput(read: InputReader, name: string): string | null {
  const value = read(name);
  return value === '' ? null : value;
}

export function intInput(read: InputReader, name: string, range: { min: number; max: number; fallback: number }): number {
  const value = read(name);
  if (value === '') return range.fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InputError(`input ${name}: expected a whole number, got ${quoted(value)}`);
  if (n < range.min || n > range.max) throw new InputError(`input ${name}: ${n} is out of range: expected ${range.min} to ${range.max}`);
  return n;
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
  throw new InputError(`input ${name}: expected true or false, got ${quoted(value)}`);
}

export function choiceInput<T extends string>(read: InputReader, name: string, choices: readonly T[], fallback: T): T {
  const value = read(name);
  if (value === '') return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new InputError(`input ${name}: expected one of ${choices.join(', ')}, got ${quoted(value)}`);
  return value as T;
}

/** An environment name from the registry's list (passed in, so this module stays free of drivers). */
export function environmentInput(read: InputReader, name: string, known: readonly string[]): string {
  const value = requiredInput(read, name);
  if (!known.includes(value)) throw new InputError(`input ${name}: unknown environment ${quoted(value)}: expected one of ${known.join(', ')}`);
  return value;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** netperf runs with -4: the server address must be a dotted IPv4 address, not a host name. */
export function ipv4Input(read: InputReader, name: string, fallback: string | null): string {
  const value = read(name);
  if (value === '') {
    if (fallback === null) throw new InputError(`input ${name} is required but was not given`);
    return fallback;
  }
  if (!IPV4.test(value)) throw new InputError(`input ${name}: expected an IPv4 address such as 198.18.0.1, got ${quoted(value)}`);
  return value;
}

export function portInput(read: InputReader, name: string, fallback: number, allowZero = false): number {
  return intInput(read, name, { min: allowZero ? 0 : 1, max: 65535, fallback });
}

/** An artifact or file-name-safe label: letters, digits, dot, dash, underscore. */
export function nameInput(read: InputReader, name: string, fallback: string): string {
  const value = read(name) || fallback;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(value)) throw new InputError(`input ${name}: expected 1-100 letters, digits, '.', '-' or '_', got ${quoted(value)}`);
  return value;
}

/** The workflow's run key: names a run (its directory, artifacts, the coordinator's run); '' is none. */
export function runKeyInput(read: InputReader, name: string): string | null {
  const value = read(name);
  if (value === '') return null;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(value)) throw new InputError(`input ${name}: expected 1-100 letters, digits, '.', '-' or '_', got ${quoted(value)}`);
  return value;
}

/** A per-run secret: letters and digits only, never quoted back (it would land in the log). */
export function secretInput(read: InputReader, name: string): string | null {
  const value = read(name);
  if (value === '') return null;
  if (!/^[A-Za-z0-9]{16,128}$/.test(value)) throw new InputError(`input ${name}: expected 16-128 letters or digits (the value is not shown)`);
  return value;
}

/** What the runner provides to every action step (GITHUB_WORKSPACE, RUNNER_TEMP, ...). */
export interface RunnerContext {
  workspace: string;
  temp: string;
}

export function runnerContext(env: NodeJS.ProcessEnv): RunnerContext {
  const workspace = env.GITHUB_WORKSPACE;
  if (!workspace) throw new InputError('GITHUB_WORKSPACE is not set: run this action from a workflow (or set it to the virtnet checkout)');
  return { workspace, temp: env.RUNNER_TEMP || '/tmp' };
}

function resolvePath(path: string, base: string): string {
  return path.startsWith('/') ? path : `${base.replace(/\/+$/, '')}/${path}`;
}

// ---------------------------------------------------------------------------------------------
// start-environment

export const ACCELERATORS = ['auto', 'kvm', 'tcg'] as const;

export interface StartEnvironmentSettings {
  /** Which environment to start: native, docker, kvm or osv. */
  environment: string;
  /** The server's testbed address that netserver (or its port map) answers on. */
  serverAddress: string;
  /** Testbed index: names the server-side bridge and tap of QEMU guests (vnet<i>br, vnet<i>tap). */
  testbedIndex: number;
  controlPort: number;
  dataPort: number;
  /** TCP port on serverAddress where the run-sweep action asks which environment is live and releases it; 0 disables. */
  coordinatorPort: number;
  readyTimeoutSeconds: number;
  /** Upper bound on how long the environment stays up if the post step never comes. */
  holdTimeoutMinutes: number;
  /** 0: return as soon as the environment is ready; N: then also wait up to N minutes for the client's release. */
  waitForReleaseMinutes: number;
  accelerator: (typeof ACCELERATORS)[number];
  osvImage: string | null;
  /** The virtnet checkout whose scripts/virtnet.ts serves the environment. */
  virtnetDir: string;
  endpointFile: string;
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

export function parseStartEnvironmentInputs(read: InputReader, runner: RunnerContext, environments: readonly string[]): StartEnvironmentSettings {
  const environment = environmentInput(read, 'environment', environments);
  const testbedIndex = intInput(read, 'testbed-index', { min: 0, max: 63, fallback: 0 });
  const virtnetDir = resolvePath(read('virtnet-dir') || runner.workspace, runner.workspace);
  const osvImage = optionalInput(read, 'osv-image');
  if (environment === 'osv' && osvImage === null) throw new InputError('input osv-image is required for environment osv (the build-osv-image action outputs it)');
  return {
    environment,
    serverAddress: ipv4Input(read, 'server-address', null),
    testbedIndex,
    controlPort: portInput(read, 'control-port', 12865),
    dataPort: portInput(read, 'data-port', 12866),
    coordinatorPort: portInput(read, 'coordinator-port', 12867, true),
    readyTimeoutSeconds: intInput(read, 'ready-timeout', { min: 1, max: 3600, fallback: 300 }),
    holdTimeoutMinutes: intInput(read, 'hold-timeout', { min: 1, max: 24 * 60, fallback: 360 }),
    waitForReleaseMinutes: intInput(read, 'wait-for-release', { min: 0, max: 24 * 60, fallback: 0 }),
    accelerator: choiceInput(read, 'accel', ACCELERATORS, 'auto'),
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
  readyTimeoutSeconds: number;
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
}

export function parseRunSweepInputs(read: InputReader, runner: RunnerContext, environments: readonly string[]): RunSweepSettings {
  const environment = environmentInput(read, 'environment', environments);
  const plan = requiredInput(read, 'plan');
  // A plan file is a path inside the workspace: no absolute path, no '..' segment.
  if (plan.startsWith('/') || plan.split('/').includes('..')) throw new InputError(`input plan: expected a built-in plan name or a path inside the workspace, got ${quoted(plan)}`);
  return {
    environment,
    serverAddress: ipv4Input(read, 'server-address', null),
    coordinatorPort: portInput(read, 'coordinator-port', 12867, true),
    release: boolInput(read, 'release', true),
    plan: /^[a-z0-9-]+$/.test(plan) ? plan : resolvePath(plan, runner.workspace),
    replicates: optionalIntInput(read, 'replicates', { min: 1, max: 1000 }),
    testLengthSeconds: optionalIntInput(read, 'test-length', { min: 1, max: 3600 }),
    runDir: resolvePath(read('run-dir') || `${runner.temp}/virtnet-run`, runner.workspace),
    readyTimeoutSeconds: intInput(read, 'ready-timeout', { min: 1, max: 24 * 3600, fallback: 900 }),
    artifactName: nameInput(read, 'artifact-name', `virtnet-run-${environment}`),
    upload: boolInput(read, 'upload', true),
    virtnetDir: resolvePath(read('virtnet-dir') || runner.workspace, runner.workspace),
    runKey: runKeyInput(read, 'run-key'),
    releaseKey: secretInput(read, 'release-key'),
    partnerJob: optionalInput(read, 'partner-job'),
    githubToken: optionalInput(read, 'github-token'),
  };
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
  /** The environments the workflow measured: one with no data in a run is named as missing. */
  environments: string[];
}

export function parseRenderReportInputs(read: InputReader, runner: RunnerContext): RenderReportSettings {
  const siteDir = optionalInput(read, 'site-dir');
  const environments = read('environments').split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const e of environments) if (!/^[a-z0-9-]{1,40}$/.test(e)) throw new InputError(`input environments: expected comma-separated environment names, got ${quoted(e)}`);
  return {
    runsPath: resolvePath(requiredInput(read, 'runs'), runner.workspace),
    reportsDir: resolvePath(read('reports-dir') || 'reports', runner.workspace),
    siteDir: siteDir === null ? null : resolvePath(siteDir, runner.workspace),
    environments,
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
}

function numberInput(read: InputReader, name: string, fallback: number, min: number, max: number, example: string): number {
  const text = read(name);
  if (text === '') return fallback;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n >= min && n <= max)) throw new InputError(`input ${name}: expected a number from ${min} to ${max} such as ${example}, got ${quoted(text)}`);
  return n;
}

export function parseDiffResultsInputs(read: InputReader, runner: RunnerContext): DiffResultsSettings {
  const alpha = numberInput(read, 'alpha', 0.05, 0, 1, '0.05');
  if (alpha === 0 || alpha === 1) throw new InputError(`input alpha: expected a probability strictly between 0 and 1, got ${quoted(read('alpha'))}`);
  const pageDir = optionalInput(read, 'page-dir');
  return {
    // Kept as given: a run directory is told from a ref by looking at the disk, which main does.
    baseline: requiredInput(read, 'baseline'),
    current: requiredInput(read, 'current'),
    thresholdPercent: numberInput(read, 'threshold', 5, 0, 1000, '5 or 2.5'),
    alpha,
    failOnRegression: boolInput(read, 'fail-on-regression', false),
    format: choiceInput(read, 'format', DIFF_FORMATS, 'markdown'),
    repoDir: resolvePath(read('repository') || runner.workspace, runner.workspace),
    pageDir: pageDir === null ? null : resolvePath(pageDir, runner.workspace),
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

export function parseBuildOsvImageInputs(read: InputReader, runner: RunnerContext, defaultCommit: string): BuildOsvImageSettings {
  const commit = read('osv-commit') || defaultCommit;
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new InputError(`input osv-commit: expected a full 40-hex commit id, got ${quoted(commit)}`);
  return {
    osvCommit: commit,
    variant: choiceInput(read, 'variant', OSV_VARIANTS, 'netperf-app'),
    cacheDir: resolvePath(read('cache-dir') || '/var/cache/virtnet/osv', runner.workspace),
    workDir: resolvePath(read('work-dir') || `${runner.temp}/osv-src`, runner.workspace),
    jobs: intInput(read, 'jobs', { min: 1, max: 256, fallback: 2 }),
    cacheOnly: boolInput(read, 'cache-only', false),
  };
}
