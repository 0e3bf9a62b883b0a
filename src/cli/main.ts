#!/usr/bin/env node
/**
 * The `neuralode` command-line tool. See program.ts for the commands and exit codes.
 */
import { registerBuiltinExperiments } from './builtin.js';
import { runCli } from './program.js';

runCli(process.argv, { registry: registerBuiltinExperiments() }).then(
  (code) => {
    // exitCode rather than exit(): lets stdout drain when it is a pipe.
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `neuralode: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
