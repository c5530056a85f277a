#!/usr/bin/env bash
# Sets up and runs the all-in-one Nimbus cloud in the foreground (Ctrl-C stops it).
# Extra arguments go to nimbusd, e.g. ./run.sh --port 9000. State lives in $NIMBUS_HOME (default ./.nimbus).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

require_dotnet
ensure_packages qemu-system-x86 qemu-utils
publish_executables

export NIMBUS_HOME="${NIMBUS_HOME:-$PWD/.nimbus}"
echo "==> starting nimbusd (state in $NIMBUS_HOME)"
exec ./bin/nimbusd "$@"
