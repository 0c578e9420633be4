#!/usr/bin/env bash
# Make an offline install bundle for one platform and GPU backend:
#   installers/bundle.sh --platform linux-cpu|linux-cuda|macos|windows-cpu|... [--out DIR] [--archive]
# Needs python3 with pip and the network (PyPI); the bundle then installs with none.
set -euo pipefail
exec python3 "$(cd "$(dirname "$0")" && pwd)/bundle.py" "$@"
