#!/usr/bin/env bash
# bench/run.sh NAME [ARGS] — builds in Release and runs one benchmark, which prints one JSON document on
# stdout (progress goes to stderr). Without NAME, lists the benchmarks. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

require_dotnet
case "${1:-}" in
  healthz) ensure_packages wrk >&2 ;;
  # OpenStack Swift beside nimbusd: bench/swift/cluster.sh starts it (no systemd here).
  objects) ensure_packages swift swift-proxy swift-object swift-container swift-account memcached curl >&2 ;;
  # libvirt beside nimbusd: the daemons are started by the benchmark itself (no systemd here).
  virt-start) ensure_packages qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients >&2 ;;
esac
publish_executables >&2
dotnet build bench/Nimbus.Bench/Nimbus.Bench.csproj -c Release --nologo -v quiet >&2
exec bench/Nimbus.Bench/bin/Release/net10.0/Nimbus.Bench "$@"
