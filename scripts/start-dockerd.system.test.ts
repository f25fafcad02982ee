// scripts/start-dockerd.sh, the part that decides how a daemon is started: run from a GitHub job step
// (RUNNER_TRACKING_ID set), the dockerd it starts must not carry that id, or the runner's end-of-job
// cleanup kills it. The real dockerd of this machine must not be touched, so docker, dockerd and
// pgrep are stand-ins on PATH: docker answers `info` once the stand-in dockerd has started, and that
// stand-in records its own environment and session, then sleeps (bounded) until the test ends it.

import { execFileSync } from 'node:child_process';
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
  it("starts dockerd in its own session without the job's RUNNER_TRACKING_ID, and says so", () => {
    stub(
      'docker',
      `[ "$1" = info ] && [ -f "${dir}/ready" ] && { [ "$2" = --format ] && echo 99.0-stand-in; exit 0; }; exit 1`,
    );
    stub('pgrep', 'exit 1');
    stub(
      'dockerd',
      `echo $$ > "${dir}/pid"; tr '\\0' '\\n' < /proc/$$/environ > "${dir}/environ"; ps -o sid= -p $$ | tr -d ' ' > "${dir}/sid"; touch "${dir}/ready"; exec sleep 60`,
    );
    const out = execFileSync('bash', [SCRIPT], {
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
  });
});
