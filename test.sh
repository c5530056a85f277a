#!/usr/bin/env bash
# Installs every Debian package the suite needs, builds (warnings are errors), checks formatting,
# publishes ./bin, builds the guest image, runs every test project, and ends with one line on stdout:
# "tests: N passed, M failed[, K skipped]", the last line it prints. Progress goes to stderr. Exits
# non-zero on any failure or when no test ran. No test installs anything: they run with
# NIMBUS_NO_INSTALL=1, and the scripts they start (images/*.sh) are given --no-install.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

require_dotnet
# virt-xml-validate (libvirt's own schemas) judges the XML Nimbus writes; QEMU runs the QMP and guest tests;
# the swift client (python3-swiftclient) judges the object storage API and the openstack client
# (python3-openstackclient) Identity and Images; PostgreSQL runs the data-layer tests on the second
# engine; genisoimage makes the ISO images the format inspector is tested on; images/build.sh and
# images/test-boot.sh (run by the guest image and QEMU tests) need their own host tools. One
# ensure_packages call before anything else; it waits for another apt or dpkg to finish.
ensure_packages libvirt-clients libxml2-utils qemu-system-x86 qemu-utils python3-swiftclient python3-openstackclient \
  postgresql genisoimage "${IMAGE_BUILD_PACKAGES[@]}" "${IMAGE_BOOT_PACKAGES[@]}"

echo "==> building (warnings are errors)" >&2
dotnet build Nimbus.slnx -c Debug --nologo -v quiet -warnaserror

echo "==> checking formatting" >&2
if ! dotnet format Nimbus.slnx --verify-no-changes --no-restore -v quiet; then
  echo "test.sh: formatting differs from .editorconfig; run 'dotnet format Nimbus.slnx' and commit the result." >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

publish_executables

# The guest image the QEMU tests boot: built (or found up to date) here, so that no test downloads
# packages or spends its time limit on a build.
echo "==> building the guest image" >&2
if ! images/build.sh >/dev/null; then
  echo "test.sh: images/build.sh failed; see above." >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

echo "==> running tests" >&2
export NIMBUS_NO_INSTALL=1
results=$(mktemp -d)
postgres_dir=$(mktemp -d)
# Stops the test cluster and removes the results, quietly (its messages would follow the summary
# line); run before the summary, and by the trap when the script stops early.
cleanup() {
  local log
  log=$(scripts/test-postgres.sh stop "$postgres_dir" 2>&1) || echo "$log" >&2
  rm -rf "$results"
}
trap cleanup EXIT
# A throwaway PostgreSQL cluster for every test project; TestDatabase makes a fresh database per test.
postgres_line=$(scripts/test-postgres.sh start "$postgres_dir" | tail -n 1) || postgres_line=
case "$postgres_line" in
  NIMBUS_TEST_POSTGRES=*) export "$postgres_line" ;;
  *)
    echo "test.sh: scripts/test-postgres.sh did not print the connection line; see above." >&2
    echo "tests: 0 passed, 1 failed"
    exit 1
    ;;
esac
passed=0 failed=0 skipped=0 projects=0
for project in $(find tests -name '*.csproj' | sort); do
  name=$(basename "$project" .csproj)
  [ "$name" = Nimbus.TestSupport ] && continue
  projects=$((projects + 1))
  status=0
  dotnet test "$project" -c Debug --no-build --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=$?
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "test.sh: $name reported no results (its test host crashed or did not start); see above." >&2
    failed=$((failed + 1))
    continue
  fi
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  count() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  project_failed=$(( $(count failed) + $(count error) + $(count timeout) + $(count aborted) ))
  if [ "$status" -ne 0 ] && [ "$project_failed" -eq 0 ]; then
    echo "test.sh: $name failed without a failing test (the run was aborted); see above." >&2
    project_failed=1
  fi
  passed=$((passed + $(count passed)))
  failed=$((failed + project_failed))
  skipped=$((skipped + $(count notExecuted)))
done

trap - EXIT
cleanup
summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
