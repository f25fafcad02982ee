#!/usr/bin/env node
// virtnet: the command line. Each command parses its arguments, then hands over to the library.

import { readFileSync } from 'node:fs';
import { commandRun } from './cli/run.ts';
import { commandTestbed } from './cli/testbed.ts';
import { commandReport } from './cli/report.ts';
import { commandCleanup } from './cli/cleanup.ts';
import { commandDiff } from './cli/diff.ts';
import { commandServe } from './cli/serve.ts';
import { print, printError, UsageError } from './cli/common.ts';
import { didYouMean } from '../actions/lib/core/text.ts';
import { commandUsage, fullUsage } from './cli/usage.ts';

const commands: Record<string, (args: string[]) => Promise<number>> = {
  run: commandRun,
  testbed: commandTestbed,
  report: commandReport,
  cleanup: commandCleanup,
  diff: commandDiff,
  serve: commandServe,
};

function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const HELP = ['--help', '-h'];

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    printError(fullUsage());
    return 2;
  }
  if (name === 'help' || HELP.includes(name)) {
    const about = rest[0];
    if (about !== undefined && Object.hasOwn(commands, about)) print(commandUsage(about));
    else print(fullUsage());
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    print(`virtnet ${version()} (Node.js ${process.versions.node})\n`);
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    const known = Object.keys(commands);
    printError(
      `virtnet: unknown command ${JSON.stringify(name)}${didYouMean(name, known)}; expected one of ${known.join(', ')} (virtnet --help lists them)\n`,
    );
    return 2;
  }
  // --help anywhere among a command's arguments prints that command's usage and does nothing else.
  if (rest.some((a) => HELP.includes(a))) {
    print(commandUsage(name));
    return 0;
  }
  try {
    return await command(rest);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      printError(`virtnet ${name}: ${err.message}\n(see virtnet ${name} --help)\n`);
      return 2;
    }
    printError(`virtnet ${name}: ${err.message}\n`);
    if (process.env.VIRTNET_DEBUG) printError(`${err.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
