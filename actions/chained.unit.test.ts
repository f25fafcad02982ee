// A lone re-run of one job of a leg, against a stand-in of the jobs API on loopback: the bundled
// actions refuse at once and start nothing (no testbed needed).

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAction } from './lib/testing/run-action.ts';
const REPO = join(import.meta.dirname, '..');
const dist = (action: string, entry = 'index.js') => join(REPO, 'actions', action, 'dist', entry);

describe('a lone re-run of one job of a leg', () => {
  it('start-environment and run-sweep refuse at once, saying to re-run all jobs, and start nothing', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'virtnet-actions-'));
    // A stand-in of the jobs API on loopback: attempt 2, the partner job last ran in attempt 1.
    const api = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          total_count: 2,
          jobs: [
            { name: 'Measure native / Serve native', run_attempt: 2, status: 'in_progress', conclusion: null },
            { name: 'Measure native / Sweep native', run_attempt: 1, status: 'completed', conclusion: 'success' },
          ],
        }),
      );
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
    const env = {
      GITHUB_API_URL: `http://127.0.0.1:${(api.address() as { port: number }).port}`,
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_RUN_ID: '7',
      GITHUB_RUN_ATTEMPT: '2',
    };
    try {
      const server = await runAction(dist('start-environment'), {
        inputs: {
          environment: 'native',
          'server-address': '198.18.63.1',
          'partner-job': 'Sweep native',
          'github-token': 't',
        },
        workspace: REPO,
        runnerTemp: temp,
        timeoutMs: 30_000,
        env,
      });
      expect(server.exitCode).toBe(1);
      expect(server.stdout).toMatch(
        /::error::this job was re-run without its partner job "Measure native \/ Sweep native" \(which last ran in attempt 1 and succeeded\).*Re-run all jobs/,
      );
      expect(server.state['serve-pid'], 'nothing was started').toBeUndefined();
      // The client's partner (the server) runs again in this attempt: the client goes on (and here
      // fails later, for want of a server, which is not what this test is about).
      const client = await runAction(dist('run-sweep'), {
        inputs: {
          environment: 'native',
          'server-address': '198.18.63.1',
          plan: 'quick',
          'partner-job': 'Serve native',
          'github-token': 't',
          'run-dir': join(temp, 'run'),
          'ready-timeout': '1',
          upload: 'false',
        },
        workspace: REPO,
        runnerTemp: temp,
        timeoutMs: 60_000,
        env,
      });
      expect(client.stdout).not.toMatch(/re-run without its partner/);
    } finally {
      await new Promise<void>((r) => api.close(() => r()));
      rmSync(temp, { recursive: true, force: true });
    }
  });
});
