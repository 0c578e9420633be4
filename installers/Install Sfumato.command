#!/bin/bash
# Double-click in the Finder to install (or update) Sfumato: runs install.sh in a Terminal window.
cd "$(dirname "$0")" || exit 1
./install.sh "$@"
status=$?
read -r -p "Press Return to close this window."
exit $status
