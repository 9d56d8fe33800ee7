#!/usr/bin/env bash
# `make test-aarch64`: the whole engine cross-built for AArch64 and tested under qemu-aarch64
# (scripts/test-cross.sh; --quick for the subset that `make test` runs).
set -euo pipefail
exec bash "$(dirname "$0")/test-cross.sh" aarch64 "$@"
