/**
 * Test audio for the STT tests: a phrase spoken by espeak-ng (en-us) and converted by sox to the
 * driver's input format (16 kHz mono s16le raw). Real programs, no recordings in the repo; a
 * missing program fails the test with the command that installs it.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

async function tool(program: string, args: readonly string[], pkg: string): Promise<void> {
  try {
    await run(program, [...args]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${program} is missing: apt-get install ${pkg}`, { cause: err });
    throw err;
  }
}

/** `phrase` spoken by espeak-ng, as 16 kHz mono s16le PCM; files are left in `dir`. */
export async function speak(dir: string, phrase: string, voice = "en-us"): Promise<Buffer> {
  const base = join(dir, phrase.replace(/[^a-z0-9]+/gi, "_").slice(0, 60) || "phrase");
  await tool("espeak-ng", ["-v", voice, "-w", `${base}.wav`, phrase], "espeak-ng");
  await tool("sox", [`${base}.wav`, "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", `${base}.raw`], "sox");
  return readFile(`${base}.raw`);
}
