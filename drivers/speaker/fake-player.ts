/**
 * A test helper: a fake `aplay` that is the audio sink of tests on machines without a sound
 * card. Each playback's stdin is saved as <captureDir>/<n>.wav, numbered from 1 in the order
 * the playbacks started, and each start and end is logged to <captureDir>/player.log as
 * `start <n> <epoch ns> <argv…>` / `end <n> <epoch ns>` so a test can see overlap and arguments.
 *
 * Rules of this file:
 * - A capture appears whole or not at all: written to a hidden temp name, then renamed.
 *   Numbers are taken with mkdir (atomic), so even overlapping players never share one.
 * - `--version` answers like aplay. FAKE_APLAY_EXIT=<code> (not 0): fail at once, as aplay does
 *   when the device does not open: a message on stderr, stdin unread, exit <code>.
 *   FAKE_APLAY_SLEEP=<seconds>: hold each playback that long after reading it (a slow sink);
 *   SIGTERM ends it at once, as it ends aplay, saving nothing.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Single-quoted for sh: safe for any path. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Writes <dir>/aplay (executable) and returns its path; creates both directories if needed. */
export function writeFakePlayer(dir: string, captureDir: string): string {
  mkdirSync(dir, { recursive: true });
  mkdirSync(captureDir, { recursive: true });
  const script = `#!/bin/sh
# Fake aplay from adaos-edge drivers/speaker/fake-player.ts: saves each playback as a WAV.
capture=${shQuote(captureDir)}
if [ "$1" = "--version" ]; then echo "aplay: version 0.0 (adaos-edge fake audio sink)"; exit 0; fi
if [ -n "$FAKE_APLAY_EXIT" ] && [ "$FAKE_APLAY_EXIT" != 0 ]; then
  echo "fake aplay: audio open error: no device ($*)" >&2
  exit "$FAKE_APLAY_EXIT"
fi
n=1
while ! mkdir "$capture/.slot-$n" 2>/dev/null; do n=$((n + 1)); done
echo "start $n $(date +%s%N) $*" >> "$capture/player.log"
cat > "$capture/.$n.wav.part" || exit 1
if [ -n "$FAKE_APLAY_SLEEP" ]; then
  sleep "$FAKE_APLAY_SLEEP" </dev/null >/dev/null 2>&1 &
  trap 'kill $! 2>/dev/null; exit 143' TERM
  wait $!
fi
mv "$capture/.$n.wav.part" "$capture/$n.wav"
echo "end $n $(date +%s%N)" >> "$capture/player.log"
`;
  const path = join(dir, "aplay");
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}
