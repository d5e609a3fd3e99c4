# Sourced by the scripts: installs what Carriage needs from Debian's packages when it
# is missing (libevent-dev, libssl-dev, pkg-config, netcat-openbsd). Needs root for apt-get, which
# CI and a fresh machine have; otherwise it says what to install and stops.
carriage_install_deps() {
    local missing=()
    dpkg -s libevent-dev >/dev/null 2>&1 || missing+=(libevent-dev)
    # TLS on the listeners (--tls-cert): OpenSSL's libssl.
    dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
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

# For the tests only: the peers and real clients the memcached tests talk to (memcached
# itself, libmemcached's tools, twemproxy) from Debian, and pymemcache from PyPI.
carriage_install_test_deps() {
    local missing=()
    command -v memcached >/dev/null 2>&1 || missing+=(memcached)
    command -v memccp >/dev/null 2>&1 || missing+=(libmemcached-tools)
    command -v nutcracker >/dev/null 2>&1 || missing+=(nutcracker)
    # openssl: the TLS tests make certificates and talk through s_client.
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    # systemd-analyze verifies scripts/carriaged.service.
    command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "missing test packages: ${missing[*]}; their tests will be skipped (sudo apt-get install ${missing[*]})" >&2
        else
            echo "installing ${missing[*]} with apt-get" >&2
            export DEBIAN_FRONTEND=noninteractive
            # policy-rc.d (if the image has one) keeps memcached from starting as a service.
            apt-get install -y -qq "${missing[@]}" >&2 \
                || { apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2; } \
                || echo "could not install ${missing[*]}; their tests will be skipped" >&2
        fi
    fi
    # pymemcache (a real memcached client) and prometheus_client (a real parser of the
    # metrics endpoint's text).
    local module package
    for module in pymemcache:pymemcache prometheus_client:prometheus-client; do
        package=${module#*:}; module=${module%%:*}
        python3 -c "import $module" >/dev/null 2>&1 && continue
        echo "installing $package with pip" >&2
        python3 -m pip install --quiet "$package" >&2 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages "$package" >&2 \
            || echo "could not install $package; its test will be skipped" >&2
    done
}
