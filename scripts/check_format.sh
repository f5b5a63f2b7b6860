#!/usr/bin/env bash
# Fails when clang-format (the project's .clang-format) would change any C++ file of the
# source folders; run by the unit suite. With --fix, formats them instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files -- 'common/*.cpp' 'common/*.h' 'gateway/*.cpp' 'gateway/*.h' \
  'signaling/*.cpp' 'signaling/*.h' 'testpeer/*.cpp' 'testpeer/*.h' 2>/dev/null ||
  find common gateway signaling testpeer -name '*.cpp' -o -name '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
