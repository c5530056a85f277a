#!/usr/bin/env bash
# bench/swift/cluster.sh start|stop DIR — OpenStack Swift from Debian's packages on loopback, laid out
# as Nimbus's all-in-one is: one proxy (tempauth, account autocreate, Swift's sample pipeline) and four
# storage nodes, each its own zone with one device, three replicas, part power 10. The reference the
# objects benchmark compares against. Needs root (Swift reads /etc/swift/swift.conf for its hash suffix).
# Prints the auth URL once the proxy answers. Ports: proxy 8080, node N object 62N0, container 62N1,
# account 62N2, memcached 11211.
set -euo pipefail
action=${1:?usage: cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: cluster.sh start|stop DIR}")
etc=$dir/etc

stop() {
  if [[ -d $dir/run ]]; then
    for pidfile in "$dir"/run/*.pid; do
      [[ -e $pidfile ]] || continue
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    done
  fi
}

if [[ $action == stop ]]; then
  stop
  exit 0
fi
[[ $action == start ]] || { echo "usage: cluster.sh start|stop DIR" >&2; exit 2; }

stop
rm -rf "$dir"
mkdir -p "$etc" "$dir/run" "$dir/log"
if [[ ! -f /etc/swift/swift.conf ]]; then
  mkdir -p /etc/swift
  cat > /etc/swift/swift.conf <<CONF
[swift-hash]
swift_hash_path_suffix = $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
swift_hash_path_prefix =
[storage-policy:0]
name = Policy-0
default = yes
CONF
fi

for ring in object container account; do
  swift-ring-builder "$etc/$ring.builder" create 10 3 1 >/dev/null
done
for node in 1 2 3 4; do
  mkdir -p "$dir/nodes/$node/d1"
  swift-ring-builder "$etc/object.builder" add "r1z$node-127.0.0.1:62${node}0/d1" 100 >/dev/null
  swift-ring-builder "$etc/container.builder" add "r1z$node-127.0.0.1:62${node}1/d1" 100 >/dev/null
  swift-ring-builder "$etc/account.builder" add "r1z$node-127.0.0.1:62${node}2/d1" 100 >/dev/null
done
for ring in object container account; do
  swift-ring-builder "$etc/$ring.builder" rebalance >/dev/null || true
done

server_conf() { # KIND NODE PORT
  mkdir -p "$etc/$1-server"
  cat > "$etc/$1-server/$2.conf" <<CONF
[DEFAULT]
devices = $dir/nodes/$2
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = $3
workers = 1
user = root
swift_dir = $etc
log_name = $1-server-$2

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
CONF
}
for node in 1 2 3 4; do
  server_conf object "$node" "62${node}0"
  server_conf container "$node" "62${node}1"
  server_conf account "$node" "62${node}2"
done

cat > "$etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 8080
workers = auto
user = root
swift_dir = $etc
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit tempauth copy container-quotas account-quotas slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:11211

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:ratelimit]
use = egg:swift#ratelimit
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
CONF

start() { # NAME COMMAND...
  local name=$1; shift
  nohup "$@" > "$dir/log/$name.log" 2>&1 &
  echo $! > "$dir/run/$name.pid"
}
start memcached memcached -u memcache -l 127.0.0.1 -p 11211 -m 256
for node in 1 2 3 4; do
  start "object-$node" swift-object-server "$etc/object-server/$node.conf"
  start "container-$node" swift-container-server "$etc/container-server/$node.conf"
  start "account-$node" swift-account-server "$etc/account-server/$node.conf"
done
start proxy swift-proxy-server "$etc/proxy-server.conf"

for _ in $(seq 1 100); do
  if curl -sf http://127.0.0.1:8080/healthcheck >/dev/null 2>&1; then
    echo "http://127.0.0.1:8080/auth/v1.0 admin:admin admin"
    exit 0
  fi
  sleep 0.2
done
echo "cluster.sh: the Swift proxy did not answer within 20 s; logs in $dir/log" >&2
exit 1
