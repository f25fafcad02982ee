import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import {
  InputError,
  OSV_VARIANTS,
  parseBuildOsvImageInputs,
  parseDiffResultsInputs,
  parseRenderReportInputs,
  parseRunSweepInputs,
  parseStartEnvironmentInputs,
  readerFrom,
  runnerContext,
} from './inputs.ts';
import { environmentNames, knownEnvironmentNames } from '../../../env/registry.ts';
import { builtInVariants, environmentBasesOfCheckout, VARIANTS_FILES } from '../../../env/variants.ts';
import { OSV_VARIANTS as ENV_OSV_VARIANTS } from '../../../env/osv/build-plan.ts';

const runner = { workspace: '/ws', temp: '/rt' };
/** This checkout's environments, whatever directory is asked about (the tests' workspace is made up). */
const REPO = join(import.meta.dirname, '..', '..', '..');
const envs = () => environmentBasesOfCheckout(REPO);

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('start-environment inputs', () => {
  const base = { environment: 'native', 'server-address': '198.18.0.1' };
  it('fills defaults into a typed settings object', () => {
    expect(parseStartEnvironmentInputs(readerFrom(base), runner, envs)).toEqual({
      environment: 'native',
      serverAddress: '198.18.0.1',
      testbedIndex: 0,
      controlPort: 12865,
      dataPort: 12866,
      coordinatorPort: 12867,
      readyTimeoutSeconds: 300,
      holdTimeoutMinutes: 360,
      waitForRelease: 0,
      plan: null,
      prepare: null,
      prepareTimeoutMinutes: 30,
      accelerator: 'auto',
      osvImage: null,
      virtnetDir: '/ws',
      endpointFile: '/rt/virtnet-endpoint-native.json',
      logFile: '/rt/virtnet-serve-native.log',
      clientDeadlineMinutes: 0,
      runKey: null,
      releaseKey: null,
      partnerJob: null,
      githubToken: null,
    });
  });
  it('reads the run key, the release key, the client deadline and the partner job; a bad key is never quoted', () => {
    const key = 'c0ffee'.repeat(6);
    expect(
      parseStartEnvironmentInputs(
        readerFrom({
          ...base,
          'run-key': '123-2',
          'release-key': key,
          'client-deadline': '20',
          'partner-job': 'Sweep native',
          'github-token': 't',
        }),
        runner,
        envs,
      ),
    ).toMatchObject({
      runKey: '123-2',
      releaseKey: key,
      clientDeadlineMinutes: 20,
      partnerJob: 'Sweep native',
      githubToken: 't',
    });
    expect(
      error(() => parseStartEnvironmentInputs(readerFrom({ ...base, 'release-key': 'short;secret' }), runner, envs)),
    ).toBe('input release-key: expected 16-128 letters or digits (the value is not shown)');
    expect(error(() => parseStartEnvironmentInputs(readerFrom({ ...base, 'run-key': '../x' }), runner, envs))).toBe(
      "input run-key: expected 1-100 letters, digits, '.', '-' or '_', got \"../x\"",
    );
  });
  it('reads every input', () => {
    const s = parseStartEnvironmentInputs(
      readerFrom({
        ...base,
        environment: 'osv',
        'osv-image': 'img/usr.img',
        'testbed-index': '5',
        'control-port': '2000',
        'data-port': '2001',
        'coordinator-port': '0',
        'ready-timeout': '60',
        'hold-timeout': '30',
        'wait-for-release': '20',
        accel: 'tcg',
        'virtnet-dir': '/opt/virtnet',
      }),
      runner,
      envs,
    );
    expect(s).toMatchObject({
      environment: 'osv',
      osvImage: '/ws/img/usr.img',
      testbedIndex: 5,
      controlPort: 2000,
      dataPort: 2001,
      coordinatorPort: 0,
      readyTimeoutSeconds: 60,
      holdTimeoutMinutes: 30,
      waitForRelease: 20,
      accelerator: 'tcg',
      virtnetDir: '/opt/virtnet',
    });
    const fromPlan = parseStartEnvironmentInputs(
      readerFrom({
        ...base,
        'wait-for-release': 'plan',
        plan: 'env/plans/mine.json',
        replicates: '3',
        'test-length': '5',
        prepare: 'bash scripts/prepare.sh --role server',
        'prepare-timeout': '45',
      }),
      runner,
      envs,
    );
    expect(fromPlan).toMatchObject({
      waitForRelease: 'plan',
      plan: { name: '/ws/env/plans/mine.json', replicates: 3, testLengthSeconds: 5 },
      prepare: 'bash scripts/prepare.sh --role server',
      prepareTimeoutMinutes: 45,
    });
  });
  it.each([
    [{ environment: '' }, 'input environment is required but was not given'],
    [
      { environment: 'vmware' },
      'input environment: unknown environment "vmware": expected one of native, docker, kvm, osv, docker-host, gvisor, gvisor-host, kvm-e1000, kvm-vhost, kvm-microvm, osv-vhost, podman-rootless, podman-rootless-rootlesskit, podman-rootless-pasta',
    ],
    [
      { 'server-address': 'server.local' },
      'input server-address: expected an IPv4 address such as 198.18.0.1, got "server.local"',
    ],
    [
      { 'server-address': '198.18.0.256' },
      'input server-address: expected an IPv4 address such as 198.18.0.1, got "198.18.0.256"',
    ],
    [{ 'control-port': '70000' }, 'input control-port: 70000 is out of range: expected 1 to 65535'],
    [{ 'data-port': '12.5' }, 'input data-port: expected a whole number, got "12.5"'],
    [{ 'testbed-index': '64' }, 'input testbed-index: 64 is out of range: expected 0 to 63'],
    [{ accel: 'hvf' }, 'input accel: expected auto, kvm or tcg, got "hvf"'],
    [{ environment: 'osv' }, 'input osv-image is required for environment osv (the build-osv-image action outputs it)'],
    [{ 'wait-for-release': '-1' }, 'input wait-for-release: -1 is out of range: expected 0 to 1440'],
    [{ 'wait-for-release': 'plan' }, "input wait-for-release is 'plan', but no plan input says which plan"],
    [
      { 'wait-for-release': 'plan', plan: '../x.json' },
      'input plan: expected a built-in plan name or a path inside the workspace, got "../x.json"',
    ],
    [{ 'prepare-timeout': '0' }, 'input prepare-timeout: 0 is out of range: expected 1 to 360'],
  ])('refuses %j', (bad, message) => {
    expect(error(() => parseStartEnvironmentInputs(readerFrom({ ...base, ...bad }), runner, envs))).toBe(message);
  });
});

describe('run-sweep inputs', () => {
  const base = { environment: 'docker', 'server-address': '198.18.0.1', plan: 'paper' };
  it('fills defaults; a plan path is resolved against the workspace, a name is kept', () => {
    expect(parseRunSweepInputs(readerFrom(base), runner, envs)).toEqual({
      environment: 'docker',
      serverAddress: '198.18.0.1',
      coordinatorPort: 12867,
      release: true,
      plan: 'paper',
      replicates: null,
      testLengthSeconds: null,
      runDir: '/rt/virtnet-run',
      readyTimeoutSeconds: 900,
      readyLimitSeconds: 3600,
      artifactName: 'virtnet-run-docker',
      upload: true,
      virtnetDir: '/ws',
      runKey: null,
      releaseKey: null,
      partnerJob: null,
      githubToken: null,
      runnerPair: null,
    });
    expect(parseRunSweepInputs(readerFrom({ ...base, 'runner-pair': 'n3530_b' }), runner, envs)).toMatchObject({
      runnerPair: 'n3530_b',
    });
    expect(
      parseRunSweepInputs(
        readerFrom({ ...base, 'run-key': '9-1', 'release-key': 'a'.repeat(32), 'partner-job': 'Serve docker' }),
        runner,
        envs,
      ),
    ).toMatchObject({ runKey: '9-1', releaseKey: 'a'.repeat(32), partnerJob: 'Serve docker' });
    expect(
      parseRunSweepInputs(
        readerFrom({
          ...base,
          plan: 'plans/mine.json',
          replicates: '5',
          'test-length': '20',
          release: 'false',
          upload: 'False',
        }),
        runner,
        envs,
      ),
    ).toMatchObject({
      plan: '/ws/plans/mine.json',
      replicates: 5,
      testLengthSeconds: 20,
      release: false,
      upload: false,
    });
  });
  it.each([
    [{ plan: '' }, 'input plan is required but was not given'],
    [
      { plan: '../../etc/plan.json' },
      'input plan: expected a built-in plan name or a path inside the workspace, got "../../etc/plan.json"',
    ],
    [
      { plan: 'env/plans/../../../x.json' },
      'input plan: expected a built-in plan name or a path inside the workspace, got "env/plans/../../../x.json"',
    ],
    [
      { plan: '/etc/plan.json' },
      'input plan: expected a built-in plan name or a path inside the workspace, got "/etc/plan.json"',
    ],
    [{ replicates: '0' }, 'input replicates: 0 is out of range: expected 1 to 1000'],
    [{ 'test-length': 'long' }, 'input test-length: expected a whole number, got "long"'],
    [{ release: 'yes' }, 'input release: expected true or false, got "yes"'],
    [
      { 'runner-pair': 'pair.one' },
      `input runner-pair: expected a pair name: 1-40 letters, digits, '-' or '_', starting with a letter or digit, got "pair.one"`,
    ],
    [
      { 'artifact-name': 'my run' },
      `input artifact-name: expected 1-100 letters, digits, '.', '-' or '_', got "my run"`,
    ],
  ])('refuses %j', (bad, message) => {
    expect(error(() => parseRunSweepInputs(readerFrom({ ...base, ...bad }), runner, envs))).toBe(message);
  });
});

describe('render-report, diff-results and build-osv-image inputs', () => {
  it('render-report', () => {
    const paper = { nameOrPath: 'paper', dir: '/ws/env/plans' };
    expect(parseRenderReportInputs(readerFrom({ runs: 'downloaded' }), runner)).toEqual({
      runsPath: '/ws/downloaded',
      reportsDir: '/ws/reports',
      siteDir: null,
      siteUrl: null,
      environments: [],
      claims: paper,
    });
    expect(
      parseRenderReportInputs(
        readerFrom({
          runs: '/abs',
          'reports-dir': 'r',
          'site-dir': '/tmp/site',
          environments: 'native, docker',
          claims: 'my/claims.json',
        }),
        runner,
      ),
    ).toEqual({
      runsPath: '/abs',
      reportsDir: '/ws/r',
      siteDir: '/tmp/site',
      siteUrl: null,
      environments: ['native', 'docker'],
      claims: { nameOrPath: '/ws/my/claims.json', dir: '/ws/env/plans' },
    });
    expect(
      parseRenderReportInputs(readerFrom({ runs: 'x', 'site-url': 'https://example.org/virtnet/' }), runner).siteUrl,
    ).toBe('https://example.org/virtnet');
    expect(
      error(() => parseRenderReportInputs(readerFrom({ runs: 'x', 'site-url': 'http://example.org' }), runner)),
    ).toBe('input site-url: expected an https URL without query or fragment, got "http://example.org"');
    expect(error(() => parseRenderReportInputs(readerFrom({ runs: 'x', 'site-url': 'pages' }), runner))).toBe(
      'input site-url: expected the published site\'s https URL, got "pages"',
    );
    expect(error(() => parseRenderReportInputs(readerFrom({ runs: 'x', environments: 'native,<b>' }), runner))).toBe(
      'input environments: expected comma-separated environment names, got "<b>"',
    );
    expect(error(() => parseRenderReportInputs(readerFrom({}), runner))).toBe(
      'input runs is required but was not given',
    );
  });
  it('diff-results: run names kept as given, numbers checked', () => {
    expect(
      parseDiffResultsInputs(
        readerFrom({ baseline: 'previous', current: 'reports/runs/x', threshold: '2.5', 'fail-on-regression': 'true' }),
        runner,
      ),
    ).toEqual({
      baseline: 'previous',
      current: 'reports/runs/x',
      thresholdPercent: 2.5,
      alpha: 0.05,
      failOnRegression: true,
      format: 'markdown',
      repoDir: '/ws',
      pageDir: null,
      claims: { nameOrPath: 'paper', dir: '/ws/env/plans' },
    });
    expect(
      parseDiffResultsInputs(
        readerFrom({
          baseline: 'main~1',
          current: 'HEAD',
          alpha: '0.01',
          'page-dir': 'site/diff',
          repository: '/repo',
        }),
        runner,
      ),
    ).toMatchObject({ alpha: 0.01, pageDir: '/ws/site/diff', repoDir: '/repo' });
    expect(
      error(() => parseDiffResultsInputs(readerFrom({ baseline: 'a', current: 'b', threshold: 'ten' }), runner)),
    ).toBe('input threshold: expected a number from 0 to 1000 such as 5 or 2.5, got "ten"');
    expect(error(() => parseDiffResultsInputs(readerFrom({ baseline: 'a', current: 'b', alpha: '1' }), runner))).toBe(
      'input alpha: expected a probability strictly between 0 and 1, got "1"',
    );
    expect(
      error(() => parseDiffResultsInputs(readerFrom({ baseline: 'a', current: 'b', format: 'html' }), runner)),
    ).toBe('input format: expected one of markdown, text, json, got "html"');
    expect(error(() => parseDiffResultsInputs(readerFrom({ current: 'b' }), runner))).toBe(
      'input baseline is required but was not given',
    );
  });
  it('build-osv-image', () => {
    const commit = 'a'.repeat(40);
    expect(parseBuildOsvImageInputs(readerFrom({}), runner, commit)).toEqual({
      osvCommit: commit,
      variant: 'netperf-app',
      cacheDir: '/var/cache/virtnet/osv',
      workDir: '/rt/osv-src',
      jobs: 2,
      cacheOnly: false,
    });
    expect(error(() => parseBuildOsvImageInputs(readerFrom({ 'osv-commit': 'v0.57.0' }), runner, commit))).toBe(
      'input osv-commit: expected a full 40-hex commit id, got "v0.57.0"',
    );
    expect(error(() => parseBuildOsvImageInputs(readerFrom({ variant: 'redis' }), runner, commit))).toBe(
      'input variant: expected one of netperf-app, host-netserver, got "redis"',
    );
  });
  it('the runner context needs GITHUB_WORKSPACE', () => {
    expect(runnerContext({ GITHUB_WORKSPACE: '/w', RUNNER_TEMP: '/t' })).toEqual({ workspace: '/w', temp: '/t' });
    expect(error(() => runnerContext({}))).toMatch(/^GITHUB_WORKSPACE is not set/);
  });
  it("the OSv variants are env/osv's", () => {
    expect([...OSV_VARIANTS]).toEqual([...ENV_OSV_VARIANTS]);
  });
  it('every registered environment and built-in variant can be named in an action, with its base', () => {
    const bases = environmentBasesOfCheckout(REPO);
    expect(Object.keys(bases)).toEqual(knownEnvironmentNames());
    for (const name of environmentNames()) expect(bases[name]).toBe(name);
    for (const v of builtInVariants()) expect(bases[v.name], v.name).toBe(v.base);
  });
  it('a variant of osv needs the OSv image too', () => {
    expect(
      error(() =>
        parseStartEnvironmentInputs(
          readerFrom({ environment: 'osv-vhost', 'server-address': '198.18.0.1' }),
          runner,
          envs,
        ),
      ),
    ).toBe('input osv-image is required for environment osv-vhost (the build-osv-image action outputs it)');
    expect(
      parseStartEnvironmentInputs(
        readerFrom({ environment: 'docker-host', 'server-address': '198.18.0.1' }),
        runner,
        envs,
      ).environment,
    ).toBe('docker-host');
  });
});

describe("the repository's own variants (env/user-variants.json) in the actions", () => {
  // A checkout of the project as the runners have it: the built-in variants, and the repository's own.
  const checkout = mkdtempSync(join(tmpdir(), 'virtnet-checkout-'));
  afterAll(() => rmSync(checkout, { recursive: true, force: true }));
  mkdirSync(join(checkout, 'env'));
  copyFileSync(join(REPO, VARIANTS_FILES.builtIn), join(checkout, VARIANTS_FILES.builtIn));
  const own = join(checkout, VARIANTS_FILES.repository);
  const mine = {
    variants: [
      { name: 'netserver-cmd', base: 'command', command: { start: ['/usr/bin/netserver', '-D'] } },
      { name: 'osv-e', base: 'osv', options: { vhost: 'off' } },
    ],
  };
  const server = { 'server-address': '198.18.0.1', 'virtnet-dir': checkout };

  it('reach start-environment and run-sweep through the checkout named by virtnet-dir, with their bases', () => {
    writeFileSync(own, JSON.stringify(mine));
    const start = parseStartEnvironmentInputs(
      readerFrom({ ...server, environment: 'netserver-cmd' }),
      runner,
      environmentBasesOfCheckout,
    );
    expect(start).toMatchObject({ environment: 'netserver-cmd', virtnetDir: checkout });
    // An osv-based variant of the repository's needs the OSv image like osv itself.
    expect(
      error(() =>
        parseStartEnvironmentInputs(
          readerFrom({ ...server, environment: 'osv-e' }),
          runner,
          environmentBasesOfCheckout,
        ),
      ),
    ).toBe('input osv-image is required for environment osv-e (the build-osv-image action outputs it)');
    const sweep = parseRunSweepInputs(
      readerFrom({ ...server, environment: 'netserver-cmd', plan: 'quick' }),
      runner,
      environmentBasesOfCheckout,
    );
    expect(sweep).toMatchObject({ environment: 'netserver-cmd', virtnetDir: checkout });
  });

  it('are unknown where the checkout has none; a broken file is refused naming it, the field and the value', () => {
    rmSync(own, { force: true });
    expect(
      error(() =>
        parseStartEnvironmentInputs(
          readerFrom({ ...server, environment: 'netserver-cmd' }),
          runner,
          environmentBasesOfCheckout,
        ),
      ),
    ).toMatch(/^input environment: unknown environment "netserver-cmd": expected one of native, docker, kvm, osv, /);
    writeFileSync(own, JSON.stringify({ variants: [{ name: 'fc', base: 'command', command: { start: ['fc'] } }] }));
    expect(
      error(() =>
        parseRunSweepInputs(
          readerFrom({ ...server, environment: 'fc', plan: 'quick' }),
          runner,
          environmentBasesOfCheckout,
        ),
      ),
    ).toBe(
      `variants: invalid variants file env/user-variants.json: variants[0].command.start[0]: "fc" is not an absolute path: give the program's full path (it runs without a shell or PATH lookup)`,
    );
    writeFileSync(own, JSON.stringify({ variants: [{ name: 'kvm-e1000', base: 'kvm' }] }));
    expect(
      error(() =>
        parseStartEnvironmentInputs(readerFrom({ ...server, environment: 'kvm' }), runner, environmentBasesOfCheckout),
      ),
    ).toBe(
      'variants: invalid variants file env/user-variants.json: variants[0].name: "kvm-e1000" is a built-in variant already (env/variants.json); choose another name',
    );
  });
});
