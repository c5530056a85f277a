# Shared by run.sh, test.sh, bench/run.sh and images/*.sh: Debian packages, the .NET SDK check, and
# publishing the executables to ./bin. Sourced, never run; expects the repository root as the working
# directory. Progress goes to stderr, so that a script's stdout carries only its result.

NIMBUS_APT_UPDATED=${NIMBUS_APT_UPDATED:-}
# NIMBUS_NO_INSTALL=1: ensure_packages only checks and fails naming what is missing (tests set it:
# no test installs anything; ./test.sh installs every package first).
NIMBUS_NO_INSTALL=${NIMBUS_NO_INSTALL:-}
# How long apt waits for a dpkg or package-list lock held by another apt or dpkg.
NIMBUS_APT_LOCK_TIMEOUT=${NIMBUS_APT_LOCK_TIMEOUT:-600}

# Packages by purpose; test.sh installs them all before any test runs.
# images/build.sh's host tools (the ones that put bytes into the image are part of its stamp).
IMAGE_BUILD_PACKAGES=(syslinux syslinux-common dosfstools mtools fdisk cpio gzip qemu-utils)
# images/test-boot.sh's.
IMAGE_BOOT_PACKAGES=(qemu-system-x86 qemu-utils genisoimage socat openssh-client)

# apt_update — apt-get update, waiting for the package-list lock when another apt holds it (apt's
# DPkg::Lock::Timeout covers the dpkg lock only, not /var/lib/apt/lists/lock).
apt_update() {
  local deadline=$((SECONDS + NIMBUS_APT_LOCK_TIMEOUT)) out
  while :; do
    if out=$(apt-get -o DPkg::Lock::Timeout="$NIMBUS_APT_LOCK_TIMEOUT" update -qq 2>&1); then
      [ -n "$out" ] && echo "$out" >&2
      NIMBUS_APT_UPDATED=1
      return 0
    fi
    case "$out" in
      *"Could not get lock"* | *"Unable to lock"*)
        if [ "$SECONDS" -ge "$deadline" ]; then
          echo "$out" >&2
          echo "$(basename "$0"): apt's package lists stayed locked by another process for ${NIMBUS_APT_LOCK_TIMEOUT} s" >&2
          return 1
        fi
        sleep 2
        ;;
      *)
        echo "$out" >&2
        return 1
        ;;
    esac
  done
}

# missing_packages PKG... — prints the packages of PKG... that are not installed, one a line.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

# ensure_packages PKG... — installs the Debian packages that are missing (apt-get update once per
# run), waiting for another apt or dpkg to finish rather than failing. With NIMBUS_NO_INSTALL=1, or
# when not root, it only checks.
ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -n "$NIMBUS_NO_INSTALL" ]; then
    echo "$(basename "$0"): needs the Debian packages ${missing[*]}, and installs nothing here (NIMBUS_NO_INSTALL is set, as in tests): run ./test.sh, which installs them first, or apt-get install ${missing[*]}" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): needs the Debian packages ${missing[*]}: run as root, or install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}" >&2
  if [ -z "$NIMBUS_APT_UPDATED" ]; then
    apt_update || exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$NIMBUS_APT_LOCK_TIMEOUT" \
    install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "$(basename "$0"): the .NET 10 SDK is needed and 'dotnet' is not on PATH; install it (see https://learn.microsoft.com/dotnet/core/install/linux-debian) and run again." >&2
    exit 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# publish_executables — builds nimbusd and nimbus in Release, precompiled (ReadyToRun) for
# linux-x64 so a CLI call starts in half the time, and installs them into ./bin.
# Files are replaced by unlink-and-copy, never rewritten in place, so a nimbusd already running
# from ./bin keeps its own (old) files and is not disturbed.
publish_executables() {
  local staging=obj/publish
  rm -rf "$staging"
  echo "==> publishing nimbusd and nimbus to ./bin" >&2
  local project
  for project in src/Nimbus.Daemon/Nimbus.Daemon.csproj src/Nimbus.Cli/Nimbus.Cli.csproj; do
    dotnet publish "$project" -c Release -o "$staging" --nologo -v quiet \
      -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:UseAppHost=true >&2
  done
  mkdir -p bin
  cp -R --remove-destination "$staging"/. bin/
}
