#!/usr/bin/env bash
# Compile the lock files in installers/locks/ from pyproject.toml, one per platform and GPU backend,
# with hashes. Run it after changing a dependency; tests/installers/test_locks.py checks they agree.
#
#   installers/compile_locks.sh            # every lock whose package sources this machine reaches
#   installers/compile_locks.sh linux-cpu  # one lock
#
# PyTorch's own index serves the CPU, older-CUDA and ROCm builds; PyPI serves the default CUDA build
# for Linux, the Apple build and the Windows CPU build. SFUMATO_TORCH_INDEX_<BACKEND> (CPU, CU126,
# ROCM, CU130) points a backend at a mirror; set it empty to take torch from UV_FIND_LINKS alone.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
uv=${UV:-uv}
torch_version=$(sed -n 's/^TORCH_VERSION=//p' "$here/versions.env")
python_version=$(sed -n 's/^PYTHON_VERSION=//p' "$here/versions.env")

# name | uv's --python-platform | the torch source ("pypi" or a backend name of SFUMATO_TORCH_INDEX_*)
targets="
linux-cpu|x86_64-manylinux_2_34|CPU
linux-cuda|x86_64-manylinux_2_34|pypi
linux-cuda-legacy|x86_64-manylinux_2_34|CU126
linux-rocm|x86_64-manylinux_2_34|ROCM
macos|aarch64-apple-darwin|pypi
windows-cpu|x86_64-pc-windows-msvc|pypi
windows-cuda|x86_64-pc-windows-msvc|CU130
"

default_index() {
    case $1 in
        CPU) echo "https://download.pytorch.org/whl/cpu" ;;
        CU126) echo "https://download.pytorch.org/whl/cu126" ;;
        CU130) echo "https://download.pytorch.org/whl/cu130" ;;
        ROCM) echo "https://download.pytorch.org/whl/rocm6.4" ;;
    esac
}

compile_one() {
    local name=$1 platform=$2 source=$3 var index
    local args=(pip compile pyproject.toml --generate-hashes --no-header --quiet
        --python-version "$python_version" --python-platform "$platform"
        --constraint "$here/locks/torch.in" --output-file "$here/locks/$name.txt")
    if [ "$source" != pypi ]; then
        var="SFUMATO_TORCH_INDEX_$source"
        index=${!var-$(default_index "$source")}
        if [ -n "$index" ]; then
            args+=(--index "$index" --index-strategy unsafe-best-match)
        fi
    fi
    echo "compiling $name" >&2
    # A local torch in UV_FIND_LINKS (a CPU build) must not stand in for PyPI's builds.
    # PyTorch's Apple wheels need macOS 14 or newer.
    if [ "$source" = pypi ]; then args=(env -u UV_FIND_LINKS MACOSX_DEPLOYMENT_TARGET=14.0 "$uv" "${args[@]}"); else args=("$uv" "${args[@]}"); fi
    if ! "${args[@]}"; then
        echo "could not compile $name: its package source is out of reach (see above)" >&2
        return 1
    fi
    { printf '# Sfumato %s lock: uv pip compile pyproject.toml --generate-hashes --python-version %s --python-platform %s\n' \
        "$name" "$python_version" "$platform"; cat "$here/locks/$name.txt"; } >"$here/locks/$name.txt.new"
    mv "$here/locks/$name.txt.new" "$here/locks/$name.txt"
}

cd "$root" # the locks name pyproject.toml by this relative path
printf 'torch==%s\n' "$torch_version" >"$here/locks/torch.in"
failed=0
while IFS='|' read -r name platform source; do
    [ -n "$name" ] || continue
    if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    compile_one "$name" "$platform" "$source" || failed=1
done <<<"$targets"
exit $failed
