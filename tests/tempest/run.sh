#!/usr/bin/env bash
# tests/tempest/run.sh [REGEX] — runs tempest's Identity v3 and Image v2 API tests (Debian package
# `tempest`) against a fresh all-in-one nimbusd and prints pass/fail/skip counts, then one JSON line.
# The default REGEX is '^tempest\.api\.(identity|image)\.'; the full log is kept in $TEMPEST_WORKSPACE
# (default /tmp/nimbus-tempest). Not part of ./test.sh: it takes minutes and its failures are
# reported, not hidden.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/common.sh

require_dotnet
ensure_packages tempest python3-openstackclient qemu-utils
publish_executables >&2

regex="${1:-^tempest\.api\.(identity|image)\.}"
workspace="${TEMPEST_WORKSPACE:-/tmp/nimbus-tempest}"
rm -rf "$workspace"
mkdir -p "$workspace"
home="$workspace/nimbus-home"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

NIMBUS__Logging__LogLevel__Default=Warning ./bin/nimbusd --home "$home" --port "$port" >"$workspace/nimbusd.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -f "$home/nimbus.env" ] && break
  kill -0 $daemon 2>/dev/null || { echo "tempest: nimbusd exited; see $workspace/nimbusd.log" >&2; cat "$workspace/nimbusd.log" >&2; exit 1; }
  sleep 0.1
done
# shellcheck disable=SC1091
. "$home/openrc"

# A small image tempest may upload (image tests that need a real guest image use it).
image="$workspace/tiny.qcow2"
qemu-img create -q -f qcow2 "$image" 16M

cd "$workspace"
tempest init --workspace-path "$workspace/workspaces.yaml" ws >/dev/null
cat > ws/etc/tempest.conf <<CONF
[DEFAULT]
log_dir = $workspace/ws/logs
log_file = tempest.log

[auth]
use_dynamic_credentials = true
create_isolated_networks = false
admin_username = $OS_USERNAME
admin_password = $OS_PASSWORD
admin_project_name = $OS_PROJECT_NAME
admin_domain_name = Default
default_credentials_domain_name = Default
tempest_roles = member

[identity]
uri_v3 = ${OS_AUTH_URL%/}/v3
auth_version = v3
region = ${OS_REGION_NAME:-RegionOne}
v3_endpoint_type = public
admin_domain_scope = false

[identity-feature-enabled]
api_v2 = false
api_v3 = true
trust = false
access_rules = false
application_credentials = true
project_tags = false
security_compliance = false
domain_specific_drivers = false
external_idp = false

[service_available]
glance = true
nova = false
neutron = false
cinder = false
swift = false
horizon = false

[image]
image_path = file://$image
# Listing tests upload random bytes under the first format; only raw (and ami/ari/aki) accepts any bytes.
disk_formats = raw,ami,ari,aki
container_formats = bare,ovf,ami,ari,aki
build_timeout = 60
build_interval = 1

[image-feature-enabled]
api_v1 = false
api_v2 = true
import_image = true

[validation]
run_validation = false

[enforce_scope]
keystone = false
glance = false
CONF

cd ws
status=0
tempest run --regex "$regex" --concurrency 2 >"$workspace/tempest-run.log" 2>&1 || status=$?
tail -n 30 "$workspace/tempest-run.log" >&2
passed=$(grep -oE '^ - Passed: [0-9]+' "$workspace/tempest-run.log" | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE '^ - Failed: [0-9]+' "$workspace/tempest-run.log" | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -oE '^ - Skipped: [0-9]+' "$workspace/tempest-run.log" | grep -oE '[0-9]+' || echo 0)
stestr failing --list 2>/dev/null | sed 's/\[.*//' | sort -u > "$workspace/failing.txt" || true
echo "tempest: $passed passed, $failed failed, $skipped skipped (log: $workspace/tempest-run.log, failing tests: $workspace/failing.txt)" >&2
python3 -c 'import json, sys; print(json.dumps({"passed": int(sys.argv[1]), "failed": int(sys.argv[2]), "skipped": int(sys.argv[3]), "failing": [l.strip() for l in open(sys.argv[4]) if l.strip()]}))' \
  "$passed" "$failed" "$skipped" "$workspace/failing.txt"
exit $status
