#!/bin/sh
# The echo:say tool. The agent writes the call's arguments (a JSON object) on stdin and takes
# the one JSON value printed on stdout as the result. POSIX sh, cat and date only.
set -eu
args=$(cat)
[ -n "$args" ] || args='{}'
printf '{"echo":%s,"at":"%s"}\n' "$args" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
