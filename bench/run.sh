#!/usr/bin/env bash
# bench/run.sh NAME [ARGS] — builds in Release and runs one benchmark, which prints one JSON document on
# stdout (progress goes to stderr). Without NAME, lists the benchmarks. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

require_dotnet
ensure_packages wrk >&2
publish_executables >&2
dotnet build bench/Nimbus.Bench/Nimbus.Bench.csproj -c Release --nologo -v quiet >&2
exec bench/Nimbus.Bench/bin/Release/net10.0/Nimbus.Bench "$@"
