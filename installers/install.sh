#!/usr/bin/env bash
# Install, update or remove Sfumato on Linux or macOS.
#
#   installers/install.sh [--prefix DIR] [--torch auto|cuda|rocm|mps|cpu] [--source DIR|WHEEL]
#                         [--offline BUNDLE] [--yes] [--no-desktop]
#   installers/install.sh --uninstall [--prefix DIR] [--purge]
#
# This script only brings uv (a checked wheel from PyPI, or the bundle's) and a Python through it;
# install.py does the rest, the same on every system. Running it again updates in place.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ "$(uname -s)" = Darwin ]; then
    default_prefix="$HOME/Applications/Sfumato Files"
else
    default_prefix="${XDG_DATA_HOME:-$HOME/.local/share}/sfumato-app"
fi

fail() {
    echo "sfumato-install: error: $*" >&2
    exit 1
}

value() { sed -n "s/^$1=//p" "$here/versions.env"; }

prefix=$default_prefix
offline=""
uninstall=0
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || fail "--prefix needs a folder"; prefix=$2; shift 2 ;;
        --offline) [ $# -ge 2 ] || fail "--offline needs a bundle"; offline=$2; shift 2 ;;
        --uninstall) uninstall=1; args+=("$1"); shift ;;
        -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
case $prefix in /*) ;; *) prefix="$PWD/$prefix" ;; esac

if [ "$uninstall" = 1 ]; then
    python="$prefix/python-path"
    [ -f "$python" ] || fail "no Sfumato installation in $prefix"
    exec "$(cat "$python")" "$prefix/installer/installers/install.py" --prefix "$prefix" ${args[@]+"${args[@]}"}
fi

# An archive made by bundle.sh is unpacked next to itself first.
if [ -n "$offline" ] && [ -f "$offline" ]; then
    unpacked="${offline%.tar.gz}"
    unpacked="${unpacked%.tar}"
    [ -d "$unpacked" ] || tar -xf "$offline" -C "$(dirname "$offline")"
    offline=$unpacked
fi
if [ -n "$offline" ]; then
    offline=$(cd "$offline" && pwd) || fail "--offline: no bundle at $offline"
    [ -d "$offline/wheels" ] || fail "--offline: $offline is not a bundle made by bundle.sh (no wheels/ folder)"
    args+=(--offline "$offline")
fi

# Before any download: the prefix must be writable and have room for uv and Python.
parent=$prefix
while [ ! -e "$parent" ]; do parent=$(dirname "$parent"); done
[ -w "$parent" ] || fail "cannot write to $parent: choose another --prefix, or fix its permissions"
free_kb=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
[ "$free_kb" -ge $((1024 * 1024)) ] || fail "$parent has less than 1 GB free; Sfumato needs 3 GB or more"
mkdir -p "$prefix/uv"

platform_key() {
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) echo UV_LINUX_X86_64 ;;
        Linux-aarch64 | Linux-arm64) echo UV_LINUX_AARCH64 ;;
        Darwin-arm64) echo UV_MACOS_ARM64 ;;
        Darwin-x86_64) echo UV_MACOS_X86_64 ;;
        *) fail "no uv build for $(uname -s) $(uname -m)" ;;
    esac
}

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

unpack_uv() { # wheel -> $prefix/uv/uv
    local scratch
    scratch=$(mktemp -d)
    if command -v unzip >/dev/null; then
        unzip -q -o "$1" '*.data/scripts/uv' -d "$scratch"
    elif command -v python3 >/dev/null; then
        python3 -m zipfile -e "$1" "$scratch"
    else
        fail "cannot unpack uv: install unzip"
    fi
    mv "$scratch"/*.data/scripts/uv "$prefix/uv/uv"
    chmod +x "$prefix/uv/uv"
    rm -rf "$scratch"
}

uv="$prefix/uv/uv"
wanted_uv=$(value UV_VERSION)
if [ ! -x "$uv" ] || [ "$("$uv" --version 2>/dev/null | cut -d' ' -f2)" != "$wanted_uv" ]; then
    read -r url digest <<<"$(value "$(platform_key)")"
    wheel="$prefix/uv/$(basename "$url")"
    if [ -n "$offline" ]; then
        cp "$offline/uv/$(basename "$url")" "$wheel" || fail "the bundle has no uv for this platform"
    else
        echo "sfumato-install: downloading uv $wanted_uv" >&2
        if command -v curl >/dev/null; then curl -fsSL -o "$wheel" "$url"; else wget -q -O "$wheel" "$url"; fi ||
            fail "could not download uv from PyPI; check the network, or use --offline BUNDLE"
    fi
    [ "$(sha256 "$wheel")" = "$digest" ] || { rm -f "$wheel"; fail "uv's download is damaged (wrong checksum)"; }
    unpack_uv "$wheel"
    rm -f "$wheel"
fi

# A private Python installed by uv: from the bundle's copy of its download (a file:// mirror laid out
# as uv asks for it) or from the network; else a Python of this system that fits, said in one line.
python_version=$(value PYTHON_VERSION)
export UV_PYTHON_INSTALL_DIR="$prefix/python"
no_private=""
if [ -n "$offline" ]; then
    export UV_OFFLINE=1 UV_PYTHON_DOWNLOADS=manual
    if [ -d "$offline/python-mirror" ]; then
        mirror=${offline//%/%25}
        export UV_PYTHON_INSTALL_MIRROR="file://${mirror// /%20}/python-mirror"
    else
        no_private="the bundle carries no Python build"
    fi
fi
managed_python() { "$uv" python find --managed-python "$python_version" 2>/dev/null; }
if ! python=$(managed_python); then
    if [ -z "$no_private" ] &&
        ! { uv_said=$("$uv" python install "$python_version" 2>&1) && python=$(managed_python); }; then
        # uv's first cause names the problem: the download out of reach, or a damaged file.
        cause=$(printf '%s\n' "$uv_said" | sed -n 's/^ *cause: //p' | head -n 1)
        [ -n "$cause" ] || cause=$(printf '%s\n' "$uv_said" | head -n 1)
        [ -n "$cause" ] || cause="its install left no Python that runs"
        no_private="uv could not install its Python $python_version: $cause"
    fi
    if [ -n "$no_private" ]; then
        python=$("$uv" python find --system "$python_version" 2>/dev/null) ||
            fail "no Python $python_version: $no_private, and this system has none"
        echo "sfumato-install: $no_private; using this system's Python $python_version: $python" >&2
    fi
fi
printf '%s\n' "$python" >"$prefix/python-path"

exec "$python" "$here/install.py" --prefix "$prefix" --uv "$uv" --python "$python" ${args[@]+"${args[@]}"}
