#!/usr/bin/env node
/** adaos-edge entry point: run one command and leave with its exit status. */
import { processIo } from "./cli/command.js";
import { dispatch, report } from "./cli/dispatch.js";

const io = processIo();
/** Once a command has returned, a handle left open by mistake must not keep the process alive. */
const EXIT_GRACE_MS = 1000;

function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

dispatch(process.argv.slice(2), io).then(finish, (err: unknown) => finish(report(err, io)));
