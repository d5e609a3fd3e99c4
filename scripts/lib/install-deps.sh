# Sourced by the scripts: installs what Carriage needs from Debian's packages when it
# is missing (libevent-dev, pkg-config, netcat-openbsd). Needs root for apt-get, which
# CI and a fresh machine have; otherwise it says what to install and stops.
carriage_install_deps() {
    local missing=()
    dpkg -s libevent-dev >/dev/null 2>&1 || missing+=(libevent-dev)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    # netcat-openbsd: the tests and nc scripts use its -N (close on stdin EOF).
    dpkg -s netcat-openbsd >/dev/null 2>&1 || missing+=(netcat-openbsd)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
        return 1
    fi
    echo "installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || apt-get update >&2
    apt-get install -y -qq "${missing[@]}" >&2
}
carriage_install_deps
