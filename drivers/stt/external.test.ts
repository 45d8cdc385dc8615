import { strict as assert } from "node:assert";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test, type TestContext } from "node:test";
import { childPids, driverContract, memoryLogger } from "../contract.js";
import type { SttEngine } from "./engine.js";
import type { ExternalOptions } from "./external.js";
import { compileGrammar, DEFAULT_DICTIONARY } from "./grammar.js";
import { create } from "./index.js";
import { speak } from "./speech-fixtures.js";

// This file's own temp root: other test files (an agent with voice on) make adaos-stt dirs in the
// shared one at the same time, and the checks below count this driver's dirs.
const ownTmp = mkdtempSync(join(tmpdir(), "stt-ext-tmp-"));
process.env.TMPDIR = ownTmp;
after(() => rmSync(ownTmp, { recursive: true, force: true }));

/** A temp dir with executable scripts standing in for engines. */
async function scripts(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "stt-ext-test-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

function engine(t: TestContext, opts: ExternalOptions): SttEngine {
  const d = create({ engine: "command", ...opts }, { logger: memoryLogger() });
  t.after(() => d.stop());
  return d;
}

async function ourTempDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith("adaos-sttcmd-"));
}

driverContract("stt command", () => create({ engine: "command", argv: ["sh", "-c", "cat >/dev/null; echo hello"], lang: "en", input: "wav-stdin" }, { logger: memoryLogger() }));

test("stt command: a WAV on stdin — the engine sees 44 header bytes plus the PCM; stdout's first line is the text", async (t) => {
  const dir = await scripts(t, { "bytes.sh": 'n=$(wc -c | tr -d " ")\necho\necho "  bytes $n  "\necho "second line ignored"' });
  const d = engine(t, { argv: [join(dir, "bytes.sh")], lang: "ru", input: "wav-stdin" });
  await d.start();
  assert.equal(d.engine, "command");
  assert.equal(d.lang, "ru");
  const r = await d.transcribe(Buffer.alloc(32_000));
  assert.equal(r.text, "bytes 32044");
  assert.ok(r.ms > 0);
  assert.deepEqual(await d.transcribe(Buffer.alloc(0)), { text: "", ms: 0 });
});

test("stt command: a WAV file named by {wav} inside an argument — a real RIFF header, removed after the run", async (t) => {
  const dir = await scripts(t, { "file.sh": 'f="${1#--file=}"\nprintf "%s %s %s" "$(head -c 4 "$f")" "$(wc -c < "$f" | tr -d " ")" "$f"' });
  const before = await ourTempDirs();
  const d = engine(t, { argv: [join(dir, "file.sh"), "--file={wav}"], lang: "en", input: "wav-file" });
  await d.start();
  const { text } = await d.transcribe(Buffer.alloc(1000));
  const [magic, size, path] = text.split(" ");
  assert.equal(magic, "RIFF");
  assert.equal(size, "1044");
  assert.match(path ?? "", /adaos-sttcmd-.*\/utterance-1\.wav$/);
  await assert.rejects(readFile(path ?? ""), { code: "ENOENT" }, "the WAV is removed after the run");
  await d.stop();
  assert.deepEqual(await ourTempDirs(), before, "the temp dir is removed on stop");
});

test("stt command: a real engine plugged in — pocketsphinx_continuous on the WAV file, grammar from the TV commands", async (t) => {
  const grammar = compileGrammar(
    { patterns: ["show {title} on the tv", "stop the tv"], slots: { title: ["inception", "the matrix", "arrival"] } },
    await readFile(DEFAULT_DICTIONARY, "utf8"),
  );
  const dir = await scripts(t, {
    // -infile must end in .wav for pocketsphinx to read the header.
    "psx-engine.sh": 'exec pocketsphinx_continuous -infile "$1" -hmm /usr/share/pocketsphinx/model/en-us/en-us -jsgf "$2" -dict "$3" -logfn /dev/null',
  });
  await writeFile(join(dir, "commands.gram"), grammar.jsgf);
  await writeFile(join(dir, "commands.dict"), grammar.dict);
  const d = engine(t, { argv: [join(dir, "psx-engine.sh"), "{wav}", join(dir, "commands.gram"), join(dir, "commands.dict")], lang: "en", input: "wav-file" });
  await d.start();
  const seen: string[] = [];
  for (const phrase of ["show inception on the tv", "show the matrix on the tv", "stop the tv"]) {
    const { text, ms } = await d.transcribe(await speak(dir, phrase));
    seen.push(`${JSON.stringify(phrase)} → ${JSON.stringify(text)} in ${ms.toFixed(0)} ms`);
    assert.equal(text, phrase);
  }
  t.diagnostic(seen.join("; "));
  console.log(`# stt command + pocketsphinx per utterance (a process each): ${seen.join("; ")}`);
});

test("stt command: a non-zero exit rejects with the code and stderr tail, health degraded until a run succeeds", async (t) => {
  const dir = await scripts(t, { "flaky.sh": 'cat >/dev/null\nif [ -e "$0.ok" ]; then echo "privet"; exit 0; fi\necho "loading model /opt/vosk-ru" >&2\necho "error: model not found" >&2\nexit 3' });
  const d = engine(t, { argv: [join(dir, "flaky.sh")], lang: "ru", input: "wav-stdin" });
  await d.start();
  await assert.rejects(d.transcribe(Buffer.alloc(320)), /stt command: .*flaky\.sh exited with code 3; stderr: loading model \/opt\/vosk-ru\nerror: model not found$/);
  assert.equal(d.health().state, "degraded");
  assert.match(d.health().detail ?? "", /exited with code 3/);
  await writeFile(join(dir, "flaky.sh.ok"), "");
  assert.equal((await d.transcribe(Buffer.alloc(320))).text, "privet");
  assert.equal(d.health().state, "up");
});

test("stt command: the timeout and an abort kill the engine's whole process group", async (t) => {
  // 29.75: a sleep no other test runs, so the check below finds only this engine's child.
  const dir = await scripts(t, { "slow.sh": 'echo "thinking" >&2\nsleep 29.75 &\nwait' });
  const before = childPids();
  const d = engine(t, { argv: [join(dir, "slow.sh")], lang: "en", input: "wav-stdin", timeoutMs: 300 });
  await d.start();
  await assert.rejects(d.transcribe(Buffer.alloc(320)), /slow\.sh took longer than 300 ms; stderr: thinking/);
  const ac = new AbortController();
  const aborted = d.transcribe(Buffer.alloc(320), ac.signal);
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(aborted, { name: "AbortError" });
  const pending = assert.rejects(d.transcribe(Buffer.alloc(320)), /the driver was stopped/);
  await new Promise((r) => setTimeout(r, 50));
  await d.stop();
  await pending;
  assert.deepEqual(childPids().filter((p) => !before.includes(p)), []);
  const leftover = async (): Promise<string[]> => {
    const found: string[] = [];
    for (const p of (await readdir("/proc")).filter((n) => /^\d+$/.test(n))) {
      if ((await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "")).startsWith("sleep\u000029.75")) found.push(p);
    }
    return found;
  };
  // A killed process may linger a moment before it is reaped by init.
  for (let i = 0; i < 40 && (await leftover()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await leftover(), [], "the engine's child sleep was killed with its group");
});

test("stt command: bad options and a missing program fail with what to fix", async (t) => {
  const log = { logger: memoryLogger() };
  assert.throws(() => create({ engine: "command", argv: ["engine"], lang: "en", input: "wav-file" }, log), /input "wav-file" needs an argument holding \{wav\}/);
  assert.throws(() => create({ engine: "command", argv: ["engine", "{wav}"], lang: "en", input: "wav-stdin" }, log), /did you mean input "wav-file"/);
  assert.throws(() => create({ engine: "command", argv: [], lang: "en", input: "wav-stdin" }, log), /argv must be a non-empty list/);
  assert.throws(() => create({ engine: "command", argv: ["x"], lang: "Russian", input: "wav-stdin" }, log), /lang "Russian" must be a BCP 47 tag/);
  const missing = engine(t, { argv: ["vosk-ru-not-installed"], lang: "ru", input: "wav-stdin" });
  await assert.rejects(missing.start(), /vosk-ru-not-installed was not found on PATH/);
  assert.equal(missing.health().state, "stopped");
  const dir = await scripts(t, {});
  await writeFile(join(dir, "model.bin"), "not a program");
  const notExec = engine(t, { argv: [join(dir, "model.bin")], lang: "ru", input: "wav-stdin" });
  await assert.rejects(notExec.start(), /model\.bin is not an executable file/);
  await assert.rejects(missing.transcribe(Buffer.alloc(2)), /the driver is stopped, not started/);
});
