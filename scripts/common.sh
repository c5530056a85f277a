# Shared by run.sh, test.sh and bench/run.sh: Debian packages, the .NET SDK check, and publishing
# the executables to ./bin. Sourced, never run; expects the repository root as the working directory.

NIMBUS_APT_UPDATED=${NIMBUS_APT_UPDATED:-}

# ensure_packages PKG... — installs the Debian packages that are missing (apt-get update once per run).
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): needs the Debian packages ${missing[*]}: run as root, or install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}"
  if [ -z "$NIMBUS_APT_UPDATED" ]; then
    apt-get update -qq
    NIMBUS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
  echo "==> publishing nimbusd and nimbus to ./bin"
  local project
  for project in src/Nimbus.Daemon/Nimbus.Daemon.csproj src/Nimbus.Cli/Nimbus.Cli.csproj; do
    dotnet publish "$project" -c Release -o "$staging" --nologo -v quiet \
      -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:UseAppHost=true
  done
  mkdir -p bin
  cp -R --remove-destination "$staging"/. bin/
}
