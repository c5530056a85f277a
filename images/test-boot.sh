#!/usr/bin/env bash
# Boots the Nimbus tiny guest under TCG with a config drive and checks what it promises: the
# "nimbus-guest: up" line carrying the metadata's hostname, the user data running (once per
# instance), SSH as root with the metadata's public key, and a clean power-off on the ACPI power
# button (QMP system_powerdown).
#
#   images/test-boot.sh [--no-install] [IMAGE]   default $NIMBUS_HOME/images/nimbus-tiny.qcow2 (NIMBUS_HOME: ./.nimbus)
#
# --no-install (what tests pass): fail naming a missing host tool instead of installing it.
#
# The image is never written: the guest runs on a qcow2 overlay in a temp directory, and boots
# twice on it; the second boot must skip the user data. Exits 0 with a one-line summary, or
# non-zero with the tail of the serial log. NIMBUS_KEEP_TEST_BOOT=1 keeps the temp directory
# (serial logs, config drive, overlay, SSH key) for a look afterwards.
set -euo pipefail

caller_dir=$PWD
repo_dir=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_dir"
. scripts/common.sh
if [ "${1:-}" = --no-install ]; then
  NIMBUS_NO_INSTALL=1
  shift
fi

UP_TIMEOUT=120        # seconds from starting QEMU to the up line (TCG: about 10 here)
USER_DATA_TIMEOUT=30
SSH_TIMEOUT=60
POWEROFF_TIMEOUT=60
GUEST_HOSTNAME=nimbus-test

absolute() { case $1 in /*) echo "$1" ;; *) echo "$caller_dir/$1" ;; esac; }
nimbus_home=$(absolute "${NIMBUS_HOME:-$repo_dir/.nimbus}")
image=$(absolute "${1:-$nimbus_home/images/nimbus-tiny.qcow2}")

tmp=
qemu_pid=
log=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ -n "$tmp" ]; then
    if [ -n "${NIMBUS_KEEP_TEST_BOOT:-}" ]; then echo "test-boot: kept $tmp" >&2; else rm -rf "$tmp"; fi
  fi
}
trap cleanup EXIT

fail() {
  echo "test-boot: FAILED: $*" >&2
  if [ -n "$log" ] && [ -f "$log" ]; then
    echo "--- last 40 lines of the serial log ($log) ---" >&2
    serial_log | tail -n 40 >&2
  fi
  [ -s "$tmp/qemu.err" ] && { echo "--- qemu stderr ---" >&2; cat "$tmp/qemu.err" >&2; }
  exit 1
}

# The serial log so far, without the CRs of the console's line endings. (Read whole and grepped
# from a here-string: grep -q or -m in a pipe would kill tr with SIGPIPE, which pipefail reports.)
serial_log() { tr -d '\r' 2>/dev/null < "$log"; }

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
seconds_since() { local ms=$(( $(now_ms) - $1 )); echo "$(( ms / 1000 )).$(( ms % 1000 / 100 ))"; }

# A TCP port on loopback that nothing listens on, for the SSH forward.
free_port() {
  local port _
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

# OpenStack config drive: ISO 9660 labelled config-2 with openstack/latest/ (Nova makes it with
# genisoimage the same way).
make_config_drive() {
  local dir=$tmp/config-drive/openstack/latest
  mkdir -p "$dir"
  ssh-keygen -q -t ed25519 -N '' -C test-boot -f "$tmp/id_ed25519"
  instance=$(cat /proc/sys/kernel/random/uuid)
  cat > "$dir/meta_data.json" <<EOF
{"uuid": "$instance", "name": "$GUEST_HOSTNAME", "hostname": "$GUEST_HOSTNAME", "launch_index": 0,
 "availability_zone": "nova", "meta": {"hostname": "not-this-one"},
 "public_keys": {"test-boot": "$(cat "$tmp/id_ed25519.pub")"}}
EOF
  # shellcheck disable=SC2016 # expands in the guest
  printf '#!/bin/sh\necho "nimbus-guest: user-data ran as $(id -u) on $(hostname)"\n' > "$dir/user_data"
  genisoimage -quiet -J -r -V config-2 -o "$tmp/config.iso" "$tmp/config-drive"
}

# Starts QEMU the way the brief for Nimbus guests does: TCG, virtio disk and NIC, serial to a file,
# QMP on a unix socket; plus the config drive on the IDE CD-ROM and SSH forwarded to $ssh_port.
start_qemu() {
  log=$1
  rm -f "$tmp/qmp.sock"
  qemu-system-x86_64 -accel tcg -m 256 -display none -monitor none -no-reboot \
    -serial "file:$log" -qmp "unix:$tmp/qmp.sock,server=on,wait=off" \
    -drive "file=$tmp/disk.qcow2,if=virtio,format=qcow2" \
    -drive "file=$tmp/config.iso,media=cdrom,readonly=on" \
    -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$ssh_port-:22" \
    2> "$tmp/qemu.err" &
  qemu_pid=$!
  started_ms=$(now_ms)
}

# Waits until the serial log has a line matching the extended regex $1 and prints it.
wait_for_line() {
  local pattern=$1 timeout=$2 deadline line
  deadline=$(( $(now_ms) + timeout * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if line=$(grep -E -m 1 "$pattern" <<< "$(serial_log)"); then
      echo "$line"
      return 0
    fi
    kill -0 "$qemu_pid" 2>/dev/null || fail "qemu exited while waiting for /$pattern/"
    sleep 0.2
  done
  fail "no line matching /$pattern/ within $timeout s"
}

check_ssh() {
  local deadline out
  deadline=$(( $(now_ms) + SSH_TIMEOUT * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if out=$(ssh -q -i "$tmp/id_ed25519" -p "$ssh_port" -o BatchMode=yes -o ConnectTimeout=20 \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 'hostname; id -u' 2>&1); then
      [ "$out" = "$GUEST_HOSTNAME"$'\n'0 ] || fail "ssh answered '$out', expected the hostname and uid 0"
      return 0
    fi
    sleep 1
  done
  fail "ssh root@127.0.0.1:$ssh_port with the metadata's key did not work within $SSH_TIMEOUT s: $out"
}

# ACPI power button over QMP (qemu-qmp-ref: system_powerdown); the guest must power itself off.
power_off() {
  local reply deadline
  reply=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"system_powerdown"}' |
    socat -t 1 - "UNIX-CONNECT:$tmp/qmp.sock") || fail "cannot talk QMP on $tmp/qmp.sock"
  [ "$(grep -c '"return"' <<< "$reply")" -eq 2 ] || fail "QMP refused system_powerdown: $reply"
  local sent_ms
  sent_ms=$(now_ms)
  deadline=$(( sent_ms + POWEROFF_TIMEOUT * 1000 ))
  while kill -0 "$qemu_pid" 2>/dev/null; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "the guest did not power off within $POWEROFF_TIMEOUT s of system_powerdown"
    sleep 0.2
  done
  wait "$qemu_pid" || fail "qemu exited with status $? after system_powerdown"
  qemu_pid=
  grep -q 'reboot: Power down' <<< "$(serial_log)" || fail "qemu exited but the guest did not log 'reboot: Power down'"
  poweroff_s=$(seconds_since "$sent_ms")
}

main() {
  local up up2 user_data
  [ -f "$image" ] || { echo "test-boot: no image $image; build it with images/build.sh" >&2; exit 1; }
  ensure_packages "${IMAGE_BOOT_PACKAGES[@]}"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-test-boot.XXXXXX")
  ssh_port=$(free_port) || fail "no free port for the SSH forward"
  make_config_drive
  qemu-img create -q -f qcow2 -b "$image" -F qcow2 "$tmp/disk.qcow2" || fail "cannot put a qcow2 overlay on $image"

  echo "==> first boot (TCG)" >&2
  start_qemu "$tmp/serial-1.log"
  up=$(wait_for_line '^nimbus-guest: up' "$UP_TIMEOUT")
  local up_s
  up_s=$(seconds_since "$started_ms")
  echo "    $up ($up_s s)" >&2
  grep -q " hostname=$GUEST_HOSTNAME " <<< "$up " || fail "the up line does not carry hostname=$GUEST_HOSTNAME"
  grep -q " instance=$instance " <<< "$up " || fail "the up line does not carry instance=$instance"
  user_data=$(wait_for_line '^nimbus-guest: user-data ran' "$USER_DATA_TIMEOUT")
  [ "$user_data" = "nimbus-guest: user-data ran as 0 on $GUEST_HOSTNAME" ] || fail "user data ran wrongly: $user_data"
  check_ssh
  power_off
  local poweroff1=$poweroff_s

  echo "==> second boot, same disk" >&2
  start_qemu "$tmp/serial-2.log"
  up2=$(wait_for_line '^nimbus-guest: up' "$UP_TIMEOUT")
  local up2_s
  up2_s=$(seconds_since "$started_ms")
  echo "    $up2 ($up2_s s)" >&2
  grep -q "^nimbus-guest: user data already ran for instance $instance" <<< "$(serial_log)" ||
    fail "the second boot did not skip the user data"
  ! grep -q '^nimbus-guest: user-data ran' <<< "$(serial_log)" || fail "the user data ran again on the second boot"
  power_off

  echo "test-boot: ok: ${image##*/} up in $up_s s under TCG (guest ${up##*uptime=}), hostname=$GUEST_HOSTNAME" \
    "$(grep -o 'ip=[^ ]*' <<< "$up"), user data ran once, ssh ok, ACPI power-off in $poweroff1 s;" \
    "second boot up in $up2_s s"
}

main
