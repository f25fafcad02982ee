// What an action's main needs from the runner, behind one small interface: its inputs, the
// environment, the log, outputs, saved state, the job summary and failing the step. In an action
// it is @actions/core (actionsCore()); tests pass a recorder (testing/action-io.ts), so each
// action's main is tested as a function, not only through its bundle.

import * as core from '@actions/core';
import { workflowLogText } from '../core/escape.ts';
import type { InputReader } from './inputs.ts';

export interface ActionIO {
  input: InputReader;
  env: NodeJS.ProcessEnv;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
  /** Appends markdown to the job summary. */
  appendSummary(markdown: string): Promise<void>;
  setFailed(message: string): void;
}

/** The runner's side, through @actions/core. */
export function actionsCore(): ActionIO {
  return {
    input: (name) => core.getInput(name),
    env: process.env,
    // A log line is written as it is: the one sink that @actions/core does not escape (escape.ts).
    info: (m) => core.info(workflowLogText(m)),
    warning: (m) => core.warning(m),
    error: (m) => core.error(m),
    setOutput: (name, value) => core.setOutput(name, value),
    saveState: (name, value) => core.saveState(name, value),
    getState: (name) => core.getState(name),
    appendSummary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
    setFailed: (m) => core.setFailed(m),
  };
}
