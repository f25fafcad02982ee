// Runs a bundled action the way the GitHub runner does: `node dist/<entry>.js` with inputs as
// INPUT_<NAME> variables, saved state as STATE_<name>, and the GITHUB_OUTPUT, GITHUB_STATE,
// GITHUB_STEP_SUMMARY, GITHUB_ENV and GITHUB_PATH files, which are read back afterwards.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../core/proc.ts';

export interface ActionResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  timedOut: boolean;
}

/** Parses a runner command file: `name=value` lines and `name<<DELIMITER ... DELIMITER` blocks. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      out[name!] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

export interface RunActionOptions {
  inputs: Record<string, string>;
  state?: Record<string, string>;
  workspace: string;
  runnerTemp: string;
  /** argv prefix, e.g. ip netns exec NS: runs the step "on" the client host of the testbed. */
  prefix?: string[];
  timeoutMs: number;
  env?: Record<string, string>;
}

export async function runAction(script: string, options: RunActionOptions): Promise<ActionResult> {
  const files = mkdtempSync(join(options.runnerTemp, 'step-'));
  const paths = {
    GITHUB_OUTPUT: 'output',
    GITHUB_STATE: 'state',
    GITHUB_STEP_SUMMARY: 'summary',
    GITHUB_ENV: 'env',
    GITHUB_PATH: 'path',
  } as const;
  const env: NodeJS.ProcessEnv = {};
  // The runner's environment, minus anything that would make the step think it has a live Actions runtime.
  for (const [k, v] of Object.entries(process.env))
    if (!/^(INPUT_|STATE_|GITHUB_|ACTIONS_|RUNNER_)/.test(k)) env[k] = v;
  for (const [k, file] of Object.entries(paths)) {
    env[k] = join(files, file);
    writeFileSync(env[k]!, '');
  }
  Object.assign(
    env,
    { GITHUB_WORKSPACE: options.workspace, RUNNER_TEMP: options.runnerTemp, GITHUB_ACTIONS: 'true', CI: 'true' },
    options.env ?? {},
  );
  for (const [name, value] of Object.entries(options.inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  const argv = [...(options.prefix ?? []), process.execPath, script];
  const { exitCode, stdout, stderr, timedOut } = await runCommand(argv, {
    env,
    cwd: options.workspace,
    timeoutMs: options.timeoutMs,
  });
  const read = (k: keyof typeof paths) => readFileSync(env[k]!, 'utf8');
  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseCommandFile(read('GITHUB_OUTPUT')),
    state: parseCommandFile(read('GITHUB_STATE')),
    summary: read('GITHUB_STEP_SUMMARY'),
    timedOut,
  };
}
