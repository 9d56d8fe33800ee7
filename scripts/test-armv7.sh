#!/usr/bin/env bash
# `make test-armv7`: the whole engine cross-built for 32-bit ARMv7 hard-float (Debian armhf) and
# tested under qemu-arm, plus the static CLI (scripts/test-cross.sh; --quick for the subset that
# `make test` runs).
set -euo pipefail
exec bash "$(dirname "$0")/test-cross.sh" armv7 "$@"
