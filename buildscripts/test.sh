#!/usr/bin/env bash
# The whole test suite: system packages, type-check + build, generated-code check, lint, tests.
# Run through `npm test` so that node_modules/.bin (and the pinned Node 22) comes first on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

step "system packages"
bash buildscripts/system-deps.sh

step "node $(node --version) ($(command -v node))"
case "$(node --version)" in v22.*) ;; *) echo "expected Node 22 from node_modules/.bin; run through npm test" >&2; exit 1 ;; esac

step "type-check and build"
rm -rf dist
tsc -p tsconfig.json

step "single executables (linux-x64, linux-arm64)"
# The .deb packages are built by the install tests themselves (fast compression).
bash buildscripts/package.sh --no-deb

step "generated code is up to date"
node dist/agent/main.js events registry build --check

step "lint"
eslint --max-warnings 0 .

step "tests"
# Node 21+ reads --test arguments as globs: pass an explicit, sorted file list.
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)
if [[ ${#files[@]} -eq 0 ]]; then echo "no test files found under dist/" >&2; exit 1; fi
node --test --test-reporter=spec --test-concurrency=2 --test-timeout=120000 "${files[@]}"
