#!/usr/bin/env bash
# Builds nimbus-tiny.qcow2, the small guest that Nimbus boots in its tests (what CirrOS is to
# OpenStack), offline from Debian packages: the cloud kernel, busybox-static, dropbear and syslinux.
#
#   images/build.sh [--no-install] [OUTPUT]   default $NIMBUS_HOME/images/nimbus-tiny.qcow2 (NIMBUS_HOME: ./.nimbus)
#
# --no-install (what tests pass): install no host tool and never run apt-get update; fail naming
# what is missing instead. ./test.sh installs everything and builds the image before any test runs.
#
# The disk is an MBR with one FAT partition holding syslinux, the kernel and an initramfs that is
# the whole root file system, so making it needs no loop device and no mount. The image is reused
# while its inputs (this script, images/guest/, images/syslinux.cfg, the package versions) are
# unchanged; OUTPUT.stamp records them. Progress goes to stderr, the image path to stdout.
# What the guest does at boot: docs/guest-image.md.
set -euo pipefail

caller_dir=$PWD
images_dir=$(cd "$(dirname "$0")" && pwd)
repo_dir=$(dirname "$images_dir")
cd "$repo_dir"
. scripts/common.sh
if [ "${1:-}" = --no-install ]; then
  NIMBUS_NO_INSTALL=1
  shift
fi

# Drivers the guest loads at boot; their dependencies come from modules.dep.
GUEST_MODULES=(
  virtio_pci virtio_blk virtio_net virtio_scsi virtio_rng   # the devices Nimbus gives a VM
  ata_piix sd_mod sr_mod isofs                               # config drive on an IDE CD-ROM
  vfat nls_cp437 nls_ascii                                   # the boot partition, for state
  button evdev                                               # ACPI power button -> acpid
)
# Host tools (scripts/common.sh lists them, for test.sh too); their versions are part of the stamp.
HOST_PACKAGES=("${IMAGE_BUILD_PACKAGES[@]}")
ABS_LD=lib/x86_64-linux-gnu/ld-linux-x86-64.so.2   # the loader inside the unpacked libc6
FAT_LABEL=NIMBUS                                   # rcS finds the boot partition by this label

log() { echo "==> $*" >&2; }
die() { echo "build.sh: $*" >&2; exit 1; }

absolute() { case $1 in /*) echo "$1" ;; *) echo "$caller_dir/$1" ;; esac; }

nimbus_home=$(absolute "${NIMBUS_HOME:-$repo_dir/.nimbus}")
output=$(absolute "${1:-$nimbus_home/images/nimbus-tiny.qcow2}")
stamp=$output.stamp
deb_cache=$nimbus_home/cache/debs

work=
cleanup() {
  [ -n "$work" ] && rm -rf "$work"
  rm -f "$output.tmp.$$" "$stamp.tmp.$$"
}
trap cleanup EXIT

# --- packages ---------------------------------------------------------------------------------

# The versioned kernel package the linux-image-cloud-amd64 metapackage points at.
cloud_kernel_package() {
  apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ && !k { k = $2; sub(/,$/, "", k) } END { print k }'
}

# Sets guest_packages to "package version" lines for every guest package: the kernel,
# busybox-static, and dropbear-bin with the libraries it links against. Each apt-cache call costs most of a second here (no
# pkgcache.bin), hence one call per question rather than one per package.
resolve_guest_packages() {
  local kernel resolved
  local -a packages
  kernel=$(cloud_kernel_package)
  if [ -z "$kernel" ]; then
    # No package lists yet (a fresh machine): fetch them, once.
    [ -z "$NIMBUS_NO_INSTALL" ] ||
      die "apt has no package lists (apt-cache knows no linux-image-cloud-amd64) and --no-install forbids apt-get update: run apt-get update, or ./test.sh"
    if [ -z "$NIMBUS_APT_UPDATED" ]; then
      log "apt-get update"
      apt_update || die "apt-get update failed"
    fi
    kernel=$(cloud_kernel_package)
    [ -n "$kernel" ] || die "apt knows no linux-image-cloud-amd64; check /etc/apt/sources.list (Debian 12 main)"
  fi
  mapfile -t packages < <(
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances dropbear-bin | grep -v -e '^ ' -e '^<')
  [ "${packages[0]:-}" = dropbear-bin ] || die "apt cannot resolve the dependencies of dropbear-bin"
  packages+=("$kernel" busybox-static)
  resolved=$(apt-cache show --no-all-versions "${packages[@]}" |
    awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' | LC_ALL=C sort -u)
  [ "$(wc -l <<< "$resolved")" -eq "$(printf '%s\n' "${packages[@]}" | sort -u | wc -l)" ] ||
    die "apt has no candidate for some of: ${packages[*]}"
  guest_packages=$resolved
}

# Downloads the packages missing from the cache (one apt-get download for all of them: apt takes
# about a second to start here) and prints the path of every package's .deb. Nothing is installed.
download_debs() {
  local pkg version tmp deb
  local -a missing=() found
  mkdir -p "$deb_cache"
  while read -r pkg version; do
    found=("$deb_cache/${pkg}_${version//:/%3a}_"*.deb)
    [ -s "${found[0]}" ] || missing+=("$pkg=$version")
  done <<< "$guest_packages"
  if [ ${#missing[@]} -gt 0 ]; then
    # Into a temp dir first, so that an interrupted download never leaves a partial .deb cached.
    tmp=$(mktemp -d "$deb_cache/.download.XXXXXX")
    if ! (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}" >&2); then
      rm -rf "$tmp"
      die "could not download ${missing[*]}"
    fi
    mv "$tmp"/*.deb "$deb_cache/"
    rmdir "$tmp"
  fi
  while read -r pkg version; do
    found=("$deb_cache/${pkg}_${version//:/%3a}_"*.deb)
    [ -s "${found[0]}" ] || die "apt-get download left no .deb for $pkg $version in $deb_cache"
    echo "${found[0]}"
  done <<< "$guest_packages"
}

# --- stamp ------------------------------------------------------------------------------------

# Everything that decides the image's bytes, one line each; the image is rebuilt when it changes.
input_manifest() {
  local file pkg
  echo "build.sh $(sha256sum < "$images_dir/build.sh" | cut -d ' ' -f 1)"
  echo "syslinux.cfg $(sha256sum < "$images_dir/syslinux.cfg" | cut -d ' ' -f 1)"
  (cd "$images_dir" && find guest -type f | LC_ALL=C sort) | while read -r file; do
    echo "$file $(stat -c %a "$images_dir/$file") $(sha256sum < "$images_dir/$file" | cut -d ' ' -f 1)"
  done
  echo "modules ${GUEST_MODULES[*]}"
  sed 's/^/package /' <<< "$guest_packages"
  for pkg in "${HOST_PACKAGES[@]}"; do
    echo "host-package $pkg $(dpkg-query -W -f='${Version}' "$pkg")"
  done
}

# --- root file system -------------------------------------------------------------------------

unpack_debs() {
  local deb
  mkdir -p "$work/debs"
  for deb in "${debs[@]}"; do
    dpkg-deb -x "$deb" "$work/debs"
  done
  kernel_version=$(cd "$work/debs/lib/modules" && ls)
  [ -f "$work/debs/boot/vmlinuz-$kernel_version" ] || die "no kernel in the unpacked packages"
}

install_busybox() {
  local applet
  install -m 755 "$work/debs/bin/busybox" "$root/bin/busybox"
  # The static busybox runs here too; --list-full names each applet's path (bin/sh, sbin/init, ...).
  "$root/bin/busybox" --list-full | while read -r applet; do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  ln -s /sbin/init "$root/init"   # the kernel runs /init from an initramfs
}

# Copies a dynamically linked binary and the shared libraries it needs, resolved by the unpacked
# libc6's own loader against the unpacked packages only — never the host's libraries.
install_dynamic() {
  local bin=$1 dest=$2 libs lib
  local sysroot=$work/debs
  install -D -m 755 "$sysroot/$bin" "$root/$dest"
  libs=$("$sysroot/$ABS_LD" --library-path "$sysroot/lib/x86_64-linux-gnu:$sysroot/usr/lib/x86_64-linux-gnu" \
    --list "$sysroot/$bin" | awk '$2 == "=>" { print $3 }')
  for lib in $libs; do
    case $lib in
      "$sysroot"/*) ;;
      *) die "$bin needs $lib, which is not in the downloaded packages" ;;
    esac
    [ -e "$root/${lib#"$sysroot"/}" ] || install -D -m 644 "$(readlink -f "$lib")" "$root/${lib#"$sysroot"/}"
  done
  [ -e "$root/lib64/ld-linux-x86-64.so.2" ] || install -D -m 755 "$sysroot/$ABS_LD" "$root/lib64/ld-linux-x86-64.so.2"
}

# Copies GUEST_MODULES and everything they depend on, and writes /etc/nimbus/modules: one .ko per
# line, dependencies first, so that rcS can insmod them in order.
install_modules() {
  local tree=$work/debs/lib/modules/$kernel_version
  local -A deps=() path_of=() loaded=()
  local -a order=()
  local line mod file
  # Debian 12's kernels ship plain .ko files; should a later one compress them, decompress them
  # all first, as busybox's depmod and insmod may not read .ko.xz or .ko.zst.
  if [ -n "$(find "$tree" -name '*.ko.xz' -print -quit)" ]; then
    ensure_packages xz-utils
    find "$tree" -name '*.ko.xz' -exec xz -d {} +
  fi
  if [ -n "$(find "$tree" -name '*.ko.zst' -print -quit)" ]; then
    ensure_packages zstd
    find "$tree" -name '*.ko.zst' -exec zstd -q -d --rm {} +
  fi
  # modules.dep is made by depmod at install time, so the .deb has none: make one with busybox.
  "$root/bin/busybox" depmod -b "$work/debs" "$kernel_version"
  while IFS= read -r line; do
    file=${line%%:*}
    deps[$file]=${line#*:}
    mod=${file##*/}
    path_of[${mod%.ko}]=$file
  done < "$tree/modules.dep"

  add_module() {
    local f=$1 d
    [ -n "${loaded[$f]:-}" ] && return 0
    for d in ${deps[$f]}; do add_module "$d"; done
    loaded[$f]=1
    order+=("$f")
  }
  for mod in "${GUEST_MODULES[@]}"; do
    file=${path_of[$mod]:-${path_of[${mod//_/-}]:-}}
    [ -n "$file" ] || die "kernel $kernel_version has no module $mod (built in? then drop it from GUEST_MODULES)"
    add_module "$file"
  done

  mkdir -p "$root/lib/modules/$kernel_version" "$root/etc/nimbus"
  for file in "${order[@]}"; do
    install -D -m 644 "$tree/$file" "$root/lib/modules/$kernel_version/$file"
    echo "$file:${deps[$file]}"
  done > "$root/lib/modules/$kernel_version/modules.dep"   # for modprobe by hand
  cp "$tree/modules.builtin" "$root/lib/modules/$kernel_version/"
  printf '%s\n' "${order[@]}" > "$root/etc/nimbus/modules"
}

build_rootfs() {
  root=$work/rootfs
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,dev,proc,sys,run,tmp,mnt,boot,root,var/log}
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  ln -s ../run "$root/var/run"
  # The kernel opens /dev/console before rcS mounts devtmpfs; without it init has no stdio.
  mknod -m 600 "$root/dev/console" c 5 1
  mknod -m 666 "$root/dev/null" c 1 3

  install_busybox
  install_dynamic usr/sbin/dropbear usr/sbin/dropbear
  install_dynamic usr/bin/dropbearkey usr/bin/dropbearkey
  install_dynamic usr/bin/dbclient usr/bin/dbclient
  ln -s dbclient "$root/usr/bin/ssh"
  install_modules
  cp -R --preserve=mode "$images_dir/guest/." "$root/"
  # root has an empty password there: login on the serial console asks for none; dropbear
  # refuses empty passwords, so SSH takes the config drive's keys only.
  chmod 600 "$root/etc/shadow"
}

build_initramfs() {
  # newc is the only cpio format the kernel unpacks; owners are forced to root.
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n > "$work/initrd.gz"
}

# --- disk -------------------------------------------------------------------------------------

# MBR (syslinux's mbr.bin) + one bootable FAT16 partition at 1 MiB with syslinux, the kernel and the
# initramfs. mkfs.fat --offset, mtools' @@offset and syslinux --offset all work on the raw file.
build_disk() {
  local raw=$work/disk.raw files_kib part_kib offset=1048576
  cp "$work/debs/boot/vmlinuz-$kernel_version" "$work/vmlinuz"
  files_kib=$(( ($(stat -c %s "$work/vmlinuz") + $(stat -c %s "$work/initrd.gz")) / 1024 ))
  # Room for the FAT itself, syslinux and the state the guest keeps there; a whole number of MiB.
  part_kib=$(( (files_kib * 5 / 4 / 1024 + 4) * 1024 ))
  truncate -s $(( offset + part_kib * 1024 )) "$raw"
  echo 'start=2048, type=e, bootable' | sfdisk --quiet --no-reread --no-tell-kernel --label dos "$raw"
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
  # -h: the BPB's hidden sectors must be the partition start for the boot sector to find itself.
  mkfs.fat -F 16 -n "$FAT_LABEL" -h 2048 --offset 2048 "$raw" "$part_kib" > /dev/null
  MTOOLS_SKIP_CHECK=1 mcopy -i "$raw@@$offset" "$work/vmlinuz" "$work/initrd.gz" "$images_dir/syslinux.cfg" ::/
  syslinux --offset "$offset" --install "$raw"
  qemu-img convert -f raw -O qcow2 "$raw" "$output.tmp.$$"
}

# --- main -------------------------------------------------------------------------------------

main() {
  local started_us=${EPOCHREALTIME/./} manifest digest debs_list size elapsed_ms
  [ "$(id -u)" -eq 0 ] || die "run as root (it installs host tools with apt and makes /dev nodes)"
  [ "$(dpkg --print-architecture)" = amd64 ] || die "builds an amd64 guest and needs an amd64 host"
  ensure_packages "${HOST_PACKAGES[@]}"

  log "resolving package versions"
  resolve_guest_packages
  manifest=$(input_manifest)
  digest=$(sha256sum <<< "$manifest" | cut -d ' ' -f 1)
  if [ -s "$output" ] && [ "$(head -n 1 "$stamp" 2>/dev/null)" = "sha256 $digest" ]; then
    log "up to date: $output"
    echo "$output"
    return 0
  fi

  log "downloading packages (cache: $deb_cache)"
  debs_list=$(download_debs)
  mapfile -t debs <<< "$debs_list"
  work=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-image.XXXXXX")
  log "unpacking ${#debs[@]} packages"
  unpack_debs
  log "building root file system (kernel $kernel_version)"
  build_rootfs
  log "building initramfs"
  build_initramfs
  log "building disk"
  mkdir -p "$(dirname "$output")"
  build_disk
  mv "$output.tmp.$$" "$output"
  printf 'sha256 %s\n%s\n' "$digest" "$manifest" > "$stamp.tmp.$$"
  mv "$stamp.tmp.$$" "$stamp"
  size=$(stat -c %s "$output")
  elapsed_ms=$(( (${EPOCHREALTIME/./} - started_us) / 1000 ))
  log "built $output ($(( size / 1024 )) KiB) in $(( elapsed_ms / 1000 )).$(( elapsed_ms % 1000 / 100 )) s"
  echo "$output"
}

main
