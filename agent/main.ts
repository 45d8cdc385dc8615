#!/usr/bin/env node
/** adaos-edge entry point: run one command and leave with its exit status. */
import { processIo } from "./cli/command.js";
import { dispatch, report } from "./cli/dispatch.js";

const io = processIo();
dispatch(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err, io);
  },
);
