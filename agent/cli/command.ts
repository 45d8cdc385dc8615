/** What every CLI command module exports, and the narrow IO it gets (so tests run commands in-process). */

export interface CliIo {
  /** Write one line (without the newline) to standard output. */
  out(line: string): void;
  /** Write one line to standard error. */
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** A command: parses its own arguments, returns the exit status. Throws AdaosError for usage/runtime errors. */
export type CommandMain = (args: readonly string[], io: CliIo) => Promise<number>;

/** Exit statuses shared by all commands. */
export const EXIT = {
  ok: 0,
  failure: 1,
  /** Bad usage or invalid configuration. */
  usage: 2,
} as const;

export function processIo(): CliIo {
  // `adaos-edge events tail | head` closes our stdout early: that is the reader's choice, not a crash.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  return {
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
    env: process.env,
    cwd: process.cwd(),
  };
}
