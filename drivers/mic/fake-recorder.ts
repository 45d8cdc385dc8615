/**
 * A stand-in for `arecord` on machines without a microphone (tests and demos): writeFakeRecorder()
 * writes an executable bash script named `arecord` that ignores its arguments and streams raw
 * s16le 16 kHz mono to stdout at real-time pace (32,000 bytes a second):
 *   FAKE_MIC_WAV=<file>      plays that WAV first (resampled by sox without dither, so the bytes
 *                            are reproducible, and paced by pv);
 *   FAKE_MIC_THEN=silence    then streams silence for ever (the default);
 *   FAKE_MIC_THEN=exit       then exits with code FAKE_MIC_EXIT (default 1), like a recorder dying;
 *   FAKE_MIC_FIFO=<fifo>     streams silence, and plays each WAV whose path is written to the fifo
 *                            (one path a line), then silence again: an end-to-end test "speaks".
 * Rules it keeps: output is always whole samples (pv moves 3,200-byte blocks, silence is written in
 * even byte counts); every child (sox, pv, head) runs in the background and is killed by the
 * script's TERM/INT/HUP trap, so killing the script leaves nothing behind; a closed stdout ends it.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SCRIPT = `#!/bin/bash
# Fake arecord written by adaos-edge drivers/mic/fake-recorder.ts; see that file for the rules.
set -u
BYTES_PER_S=32000   # s16le, 16 kHz, mono
child=
trap 'if [ -n "$child" ]; then kill "$child" 2>/dev/null; fi; exit 143' TERM INT HUP

# Runs a command in the background (keeping stdin: <&0) and waits, so the trap can fire and kill it.
run() { "$@" <&0 & child=$!; wait "$child"; local rc=$?; child=; return $rc; }

play() {
  if [ ! -r "$1" ]; then echo "fake arecord: cannot read WAV $1" >&2; return 0; fi
  # Plain commands, not functions: then $! is pv itself, and killing pv ends sox by SIGPIPE.
  sox -D "$1" -t raw -r 16000 -e signed -b 16 -c 1 - | pv -q -L "$BYTES_PER_S" & child=$!
  wait "$child"; local rc=$?; child=
  if [ "$rc" -ge 128 ]; then exit "$rc"; fi   # stdout closed (SIGPIPE) or pv killed
}

# Silence paced by the wall clock: each round writes the whole milliseconds due since the last.
silence_until_fifo_line() {
  local last=\${EPOCHREALTIME//[.,]/} now ms
  while true; do
    if read -r -t 0.05 line <&3; then REPLY_LINE=$line; return 0; fi
    now=\${EPOCHREALTIME//[.,]/}
    ms=$(( (10#$now - 10#$last) / 1000 ))
    if [ "$ms" -gt 0 ]; then
      run head -c $(( ms * BYTES_PER_S / 1000 )) /dev/zero || exit 141
      last=$(( 10#$last + ms * 1000 ))
    fi
  done
}

if [ -n "\${FAKE_MIC_WAV:-}" ]; then play "$FAKE_MIC_WAV"; fi

if [ -n "\${FAKE_MIC_FIFO:-}" ]; then
  exec 3<>"$FAKE_MIC_FIFO"   # read-write: opening does not block, and EOF never comes
  while true; do
    REPLY_LINE=
    silence_until_fifo_line
    if [ -n "$REPLY_LINE" ]; then play "$REPLY_LINE"; fi
  done
fi

if [ "\${FAKE_MIC_THEN:-silence}" = exit ]; then exit "\${FAKE_MIC_EXIT:-1}"; fi
run pv -q -L "$BYTES_PER_S" < /dev/zero
exit $?
`;

/** Writes the fake `arecord` into dir (which must exist) and returns its path. */
export function writeFakeRecorder(dir: string): string {
  const path = join(dir, "arecord");
  writeFileSync(path, SCRIPT);
  chmodSync(path, 0o755);
  return path;
}
