// scripts/start-dockerd.sh, the part that decides how a daemon is started: run from a GitHub job step
// (RUNNER_TRACKING_ID set), the dockerd it starts must not carry that id, or the runner's end-of-job
// cleanup kills it. The real dockerd of this machine must not be touched, so docker, dockerd and
// pgrep are stand-ins on PATH: docker answers `info` once the stand-in dockerd has started, and that
// stand-in records its own environment and session, then sleeps (bounded) until the test ends it.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireService, rootMissing, skipNote } from '../actions/lib/testing/requirements.ts';

const SCRIPT = join(import.meta.dirname, 'start-dockerd.sh');
const dir = mkdtempSync(join(tmpdir(), 'virtnet-start-dockerd-'));
let fakePid = 0;
afterAll(() => {
  if (fakePid > 0) {
    try {
      process.kill(fakePid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function stub(name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

const missing = requireService('root', rootMissing());

describe.skipIf(missing !== null)(`start-dockerd.sh on a runner${skipNote(missing)}`, () => {
  it("starts dockerd in its own session without the job's RUNNER_TRACKING_ID or the caller's open files, and says so", () => {
    stub(
      'docker',
      `[ "$1" = info ] && [ -f "${dir}/ready" ] && { [ "$2" = --format ] && echo 99.0-stand-in; exit 0; }; exit 1`,
    );
    stub('pgrep', 'exit 1');
    stub(
      'dockerd',
      `echo $$ > "${dir}/pid"; tr '\\0' '\\n' < /proc/$$/environ > "${dir}/environ"; ps -o sid= -p $$ | tr -d ' ' > "${dir}/sid"; readlink /proc/$$/fd/* > "${dir}/fds"; touch "${dir}/ready"; exec sleep 60`,
    );
    // Run under a lock, as `flock LOCK npm test` does: the daemon must not inherit (and so hold) it.
    const lock = join(dir, 'caller.lock');
    const out = execFileSync('flock', [lock, 'bash', SCRIPT], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        RUNNER_TRACKING_ID: 'github_0000-test',
        VIRTNET_STATE_DIR: dir,
        DOCKER_HOST: '',
      },
    });
    fakePid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(out).toMatch(/dockerd: starting \(dockerd --userland-proxy=false, log in /);
    expect(out).toMatch(/started outside the job's process tracking \(no RUNNER_TRACKING_ID\)/);
    const environ = readFileSync(join(dir, 'environ'), 'utf8').split('\n');
    expect(environ.some((l) => l.startsWith('RUNNER_TRACKING_ID='))).toBe(false);
    expect(environ.some((l) => l.startsWith('VIRTNET_STATE_DIR='))).toBe(true);
    // Its own session: setsid made it a session leader.
    expect(readFileSync(join(dir, 'sid'), 'utf8').trim()).toBe(String(fakePid));
    expect(existsSync(join(dir, 'dockerd.log'))).toBe(true);
    expect(readFileSync(join(dir, 'fds'), 'utf8').split('\n')).not.toContain(lock);
    // The caller is gone and the daemon lives on: the lock is free at once.
    expect(spawnSync('flock', ['-n', lock, 'true']).status).toBe(0);
  });
});

// gVisor's runtimes: registered in the configuration of the daemon the script starts, reloaded (not
// restarted) into that daemon when missing, and never written into a daemon it did not start.
// Stand-ins again: runsc is a stub on PATH; the stand-in dockerd, on SIGHUP, "loads" the runtimes
// of its --config-file, which the stand-in docker then shows as `docker info`'s .Runtimes.
describe.skipIf(missing !== null)(`start-dockerd.sh and gVisor's runtimes${skipNote(missing)}`, () => {
  const gdir = mkdtempSync(join(tmpdir(), 'virtnet-start-dockerd-runsc-'));
  const standIns: number[] = [];
  afterAll(() => {
    for (const pid of standIns) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(gdir, { recursive: true, force: true });
  });
  const config = join(gdir, 'dockerd.json');
  // Whether this kernel shows rmem_default in a new network namespace: then runsc goes through the shim.
  const needsShim = (() => {
    try {
      execFileSync('unshare', ['--net', 'test', '-e', '/proc/sys/net/core/rmem_default']);
      return true;
    } catch {
      return false;
    }
  })();
  const fakeRunsc = join(gdir, 'runsc');
  const wanted = {
    runsc: { path: needsShim ? join(gdir, 'runsc-shim') : fakeRunsc, runtimeArgs: ['--platform=ptrace'] },
    'runsc-host': { path: fakeRunsc, runtimeArgs: ['--platform=ptrace', '--network=host'] },
  };

  function gstub(name: string, body: string): void {
    writeFileSync(join(gdir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(gdir, name), 0o755);
  }
  gstub('runsc', 'echo "runsc version 0.0~stand-in"; echo "spec: 1.0.2-dev"');
  // docker: `info` answers; its .Runtimes are what the stand-in dockerd loaded (none at first).
  gstub(
    'docker',
    `[ "$1" = info ] || exit 1; case "$*" in *Runtimes*) cat "${gdir}/loaded" 2>/dev/null || echo '{"runc":{"path":"runc"}}' ;; *ServerVersion*) echo 99.0-stand-in ;; esac; exit 0`,
  );
  // The stand-in dockerd: on SIGHUP it loads the runtimes of its configuration file.
  gstub(
    'dockerd',
    `trap 'touch "${gdir}/hup"; sed -e "s/^{\\"runtimes\\"://" -e "s/}\$//" "${config}" > "${gdir}/loaded"' HUP\nfor i in $(seq 1 600); do sleep 0.1; done`,
  );
  function standInDockerd(args: string[]): number {
    const child = spawn('bash', [join(gdir, 'dockerd'), ...args], { stdio: 'ignore', detached: true });
    standIns.push(child.pid!);
    return child.pid!;
  }
  function startDockerd(extraEnv: Record<string, string> = {}) {
    return spawnSync('bash', [SCRIPT], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${gdir}:${process.env.PATH}`,
        VIRTNET_STATE_DIR: gdir,
        DOCKER_HOST: '',
        ...extraEnv,
      },
    });
  }

  it('reloads the runtimes into the daemon it started, with SIGHUP, and writes the shim where runsc needs it', async () => {
    const pid = standInDockerd(['--userland-proxy=false', `--config-file=${config}`]);
    gstub('pgrep', `echo ${pid}`);
    await new Promise((r) => setTimeout(r, 200)); // the stand-in has set its trap
    const r = startDockerd();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `dockerd: registering the gVisor runtimes runsc and runsc-host (platform ptrace) in ${config}; reloading dockerd (PID ${pid}, SIGHUP)`,
    );
    expect(r.stdout).toContain('dockerd: gVisor runtimes registered (runsc version 0.0~stand-in)');
    expect(existsSync(join(gdir, 'hup'))).toBe(true);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ runtimes: wanted });
    if (needsShim)
      expect(readFileSync(join(gdir, 'runsc-shim'), 'utf8')).toBe(
        readFileSync(join(import.meta.dirname, 'runsc-shim.sh'), 'utf8'),
      );
    // Registered now: a second run says so and sends no signal.
    rmSync(join(gdir, 'hup'));
    const again = startDockerd();
    expect(again.stdout).toMatch(
      /^dockerd: gVisor runtimes runsc and runsc-host registered \(runsc version 0\.0~stand-in, platform ptrace/m,
    );
    expect(existsSync(join(gdir, 'hup'))).toBe(false);
    // Another platform asked for: rewritten and reloaded.
    const kvm = startDockerd({ VIRTNET_RUNSC_PLATFORM: 'kvm' });
    expect(kvm.stdout).toContain('registering the gVisor runtimes runsc and runsc-host (platform kvm)');
    expect(JSON.parse(readFileSync(join(gdir, 'loaded'), 'utf8')).runsc.runtimeArgs).toEqual(['--platform=kvm']);
  });

  it('leaves a daemon it did not start alone, saying what to add to its daemon.json', async () => {
    rmSync(join(gdir, 'loaded'), { force: true });
    rmSync(join(gdir, 'hup'), { force: true });
    const pid = standInDockerd(['--userland-proxy=false']);
    gstub('pgrep', `echo ${pid}`);
    await new Promise((r) => setTimeout(r, 200));
    const r = startDockerd();
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('the running daemon (not started by this script) lacks the gVisor runtimes');
    expect(r.stderr).toContain('"runtimes": {"runsc":{"path":');
    expect(existsSync(join(gdir, 'hup'))).toBe(false);
  });

  it('refuses a platform it does not know, naming the setting and the value', () => {
    const r = startDockerd({ VIRTNET_RUNSC_PLATFORM: 'hvf' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("dockerd: VIRTNET_RUNSC_PLATFORM: expected ptrace or kvm, got 'hvf'");
  });
});
