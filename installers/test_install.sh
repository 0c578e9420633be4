#!/usr/bin/env bash
# End-to-end test of the Linux installer, as an artist would use it, in a temporary folder:
# install this checkout with the CPU build, run `sfumato --version`, `doctor`, a demo generation and
# the studio (offscreen); update in place; a broken update must roll back; build an offline bundle
# and install it with the network refused; uninstall. Prints the timings and the installed size.
#
#   installers/test_install.sh            # about 3 minutes on 2 cores, with PyPI reachable
#
# uv does not read pip's configuration: where pip takes wheels from a local folder (pip config
# `global.find-links`), the same folder is handed to uv as UV_FIND_LINKS, and when it holds a CPU
# build of torch, PyTorch's own index is not asked (SFUMATO_TORCH_INDEX_CPU empty).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${UV_FIND_LINKS:-}" ]; then
    links=${PIP_FIND_LINKS:-$(pip config get global.find-links 2>/dev/null || true)}
    if [ -n "$links" ]; then
        export UV_FIND_LINKS=$links
        if compgen -G "$links/torch-*+cpu-*.whl" >/dev/null; then export SFUMATO_TORCH_INDEX_CPU=""; fi
    fi
fi
export HOME="$work/home" SFUMATO_HOME="$work/sfumato-data" HF_HOME="$work/hf" QT_QPA_PLATFORM=offscreen
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME
mkdir -p "$HOME"


step() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }
fail() {
    echo "FAILED: $*" >&2
    exit 1
}
is_png() { [ "$(head -c 4 "$1" | tail -c 3)" = PNG ] || fail "$1 is not a PNG"; }

prefix="$work/prefix"
sfumato="$prefix/bin/sfumato"
generate=(generate --model demo --prompt "a lighthouse at dusk" --steps 4 --width 64 --height 64)

step "fresh install from this checkout, CPU build"
start=$SECONDS
"$root/installers/install.sh" --prefix "$prefix" --torch cpu --source "$root" --yes >"$work/install.log" 2>&1 ||
    { tail -30 "$work/install.log"; fail "the install"; }
installed=$((SECONDS - start))
"$sfumato" --version | grep -q "^sfumato " || fail "sfumato --version"
"$sfumato" doctor || fail "sfumato doctor found a problem"
"$sfumato" "${generate[@]}" --out "$work/first.png" || fail "the demo generation"
is_png "$work/first.png"
first_image=$((SECONDS - start))
size=$(du -sh "$prefix" | cut -f1)

step "desktop integration"
data="$HOME/.local/share"
for made in applications/sfumato.desktop icons/hicolor/scalable/apps/sfumato.svg mime/packages/sfumato-openraster.xml; do
    [ -f "$data/$made" ] || fail "no $made"
done
[ -x "$HOME/.local/bin/sfumato" ] || fail "no sfumato command in ~/.local/bin"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$data/applications/sfumato.desktop"; fi

step "the studio starts (offscreen) and keeps running"
set +e
timeout 20 "$sfumato" >"$work/studio.log" 2>&1
studio=$?
set -e
[ "$studio" = 124 ] || { cat "$work/studio.log"; fail "the studio exited with $studio"; }
! grep -q Traceback "$work/studio.log" || { cat "$work/studio.log"; fail "the studio printed a traceback"; }

step "running the installer again updates in place and keeps the CPU build"
"$root/installers/install.sh" --prefix "$prefix" --source "$root" --yes >"$work/update.log" 2>&1 ||
    { tail -30 "$work/update.log"; fail "the update"; }
grep -q "Keeping the installed PyTorch build: cpu" "$work/update.log" || fail "the update did not keep the backend"
slot_b_only() { [ "$(cat "$prefix/current")" = b ] && [ ! -d "$prefix/envs/a" ]; }
slot_b_only || fail "the update did not switch slots"
"$sfumato" --version >/dev/null || fail "sfumato after the update"

step "a broken update (sfumato update) rolls back"
broken="$work/broken-source"
mkdir -p "$broken"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$broken")
echo 'raise RuntimeError("a release broken on purpose")' >>"$broken/core/__init__.py"
if "$sfumato" update --source "$broken" >"$work/broken.log" 2>&1; then
    fail "a broken update was accepted"
fi
grep -q "previous installation (cpu) is kept" "$work/broken.log" || { cat "$work/broken.log"; fail "no rollback message"; }
slot_b_only || fail "the broken update left its slot"
"$sfumato" "${generate[@]}" --out "$work/after-rollback.png" || fail "generation after the rollback"

step "an offline bundle installs and generates with the network refused"
"$root/installers/bundle.sh" --platform linux-cpu --out "$work/bundle" --archive >"$work/bundle.log" 2>&1 ||
    { tail -30 "$work/bundle.log"; fail "bundle.sh"; }
rm -rf "$work/bundle"
offline=(env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u UV_FIND_LINKS
    UV_OFFLINE=1 PIP_NO_INDEX=1 HOME="$work/offline-home")
if unshare -n true 2>/dev/null; then offline+=(unshare -n); else echo "(no network namespace: offline by settings only)"; fi
mkdir "$work/carried" # the bundle's own installer, which unpacks the archive it is given
tar -xf "$work/bundle.tar" -C "$work/carried"
"${offline[@]}" "$work/carried/bundle/installers/install.sh" --offline "$work/bundle.tar" --prefix "$work/offline" \
    --yes --no-desktop >"$work/offline.log" 2>&1 || { tail -30 "$work/offline.log"; fail "the offline install"; }
"${offline[@]}" "$work/offline/bin/sfumato" "${generate[@]}" --out "$work/offline.png" || fail "offline generation"
is_png "$work/offline.png"

step "uninstall removes the app and keeps the artist's files"
"$root/installers/install.sh" --uninstall --prefix "$prefix" || fail "uninstall"
[ ! -e "$prefix" ] || fail "the prefix is still there"
for made in "$data/applications/sfumato.desktop" "$HOME/.local/bin/sfumato"; do
    [ ! -e "$made" ] || fail "uninstall left $made"
done
[ -d "$SFUMATO_HOME" ] || fail "uninstall removed Sfumato's data"

printf '\nAll installer checks passed in %ss. Install: %ss; first demo image: %ss after start; installed size: %s.\n' \
    "$SECONDS" "$installed" "$first_image" "$size"
