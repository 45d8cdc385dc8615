/**
 * A recorder definition for node-record-lpcm16 that runs a program given by its absolute path
 * with arecord's arguments. node-record-lpcm16 takes `recorder` as the name of a module beside its
 * own (arecord, sox, rec) and require()s it, so a path of a program cannot be passed directly; its
 * loader resolves an absolute name as is, so drivers/mic/recorder.ts passes this module's path
 * and the program in the `program` option.
 * Rules: the arguments are exactly the library's arecord ones (same device handling, -D first);
 * only the command changes.
 */
interface RecorderOptions {
  readonly program: string;
  readonly [option: string]: unknown;
}
interface RecorderCommand {
  readonly cmd: string;
  readonly args: readonly (string | number)[];
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without types
const arecord = require("node-record-lpcm16/recorders/arecord.js") as (options: RecorderOptions) => RecorderCommand;

function recorderAtPath(options: RecorderOptions): RecorderCommand {
  return { ...arecord(options), cmd: options.program };
}

export = recorderAtPath;
