#!/usr/bin/env bash
# `apt-get update`, tried three times: a Debian mirror in the middle of a sync serves index files
# whose size does not match its Release file ("Mirror sync in progress?"). Exits non-zero if the
# last try fails too; callers go on with the lists apt has (the other indexes did update), and
# the packages they then ask for are found or named as missing.
#
#   bash scripts/apt-update.sh || echo "going on with the package lists apt has"
set -uo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
for wait in 10 20; do
  if $SUDO apt-get update -qq; then exit 0; fi
  echo "apt-update: apt-get update failed; trying again in ${wait} s" >&2
  sleep "$wait"
done
$SUDO apt-get update -qq
