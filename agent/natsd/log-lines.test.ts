import { strict as assert } from "node:assert";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { createRootLogger } from "../core/logger.js";
import { forwardLog, MAX_LINE_CHARS, parseLogLine } from "./log-lines.js";

test("level tags map to pino levels; the pid becomes a field", () => {
  assert.deepEqual(parseLogLine("[1234] [INF] Server is ready"), { level: "info", msg: "Server is ready", pid: 1234 });
  assert.deepEqual(parseLogLine("[7] [WRN] Plaintext passwords detected"), { level: "warn", msg: "Plaintext passwords detected", pid: 7 });
  assert.deepEqual(parseLogLine("[7] [ERR] 127.0.0.1:7422 - lid:4 - Error"), { level: "error", msg: "127.0.0.1:7422 - lid:4 - Error", pid: 7 });
  assert.deepEqual(parseLogLine("[7] [FTL] bad"), { level: "fatal", msg: "bad", pid: 7 });
  assert.deepEqual(parseLogLine("[7] [DBG] d"), { level: "debug", msg: "d", pid: 7 });
  assert.deepEqual(parseLogLine("[7] [TRC] t"), { level: "trace", msg: "t", pid: 7 });
  assert.deepEqual(parseLogLine("[7] 2026/11/22 06:55:42.447896 [INF] with logtime"), { level: "info", msg: "with logtime", pid: 7 });
  assert.deepEqual(parseLogLine("[INF] no pid"), { level: "info", msg: "no pid" });
});

test("untagged lines (a panic's stack) are kept at error; huge lines are cut", () => {
  assert.deepEqual(parseLogLine("goroutine 1 [running]:"), { level: "error", msg: "goroutine 1 [running]:" });
  assert.deepEqual(parseLogLine("[7] [XYZ] odd"), { level: "error", msg: "[7] [XYZ] odd" });
  assert.equal(parseLogLine("[7] [INF] " + "x".repeat(10 * MAX_LINE_CHARS)).msg.length, MAX_LINE_CHARS - "[7] [INF] ".length + 1);
});

test("forwardLog writes each line to the logger at its level", async () => {
  const out: { level: number; msg: string; pid?: number; component?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(JSON.parse(chunk.toString("utf8")) as (typeof out)[number]);
      cb();
    },
  });
  const logger = createRootLogger({ level: "debug", nodeId: "h", destination }).child({ component: "natsd" });
  const stream = new PassThrough();
  forwardLog(stream, logger);
  stream.end("[9] [INF] one\n\n[9] [WRN] two\r\npanic: boom\n");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(out.map((l) => [l.level, l.msg, l.pid, l.component]), [
    [30, "one", 9, "natsd"],
    [40, "two", 9, "natsd"],
    [50, "panic: boom", undefined, "natsd"],
  ]);
});
