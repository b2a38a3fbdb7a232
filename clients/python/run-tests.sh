#!/usr/bin/env bash
# The SDK's tests against the real server jar, as the build runs them (Maven's integration-test phase, after the jar).
# Debian's /usr/bin/python3 is preferred: its python3-pytest and python3-websockets are what .ci/run installs. Where
# either is missing the tests are skipped locally, and fail in CI.
set -euo pipefail
cd "$(dirname "$0")"
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if ! "$python" -c "import pytest, websockets" 2>/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "CI must have python3-pytest and python3-websockets for $python (.ci/run installs them)" >&2
        exit 1
    fi
    echo "python SDK tests skipped: $python lacks pytest or websockets (apt-get install python3-pytest python3-websockets)"
    exit 0
fi
PYTHONPATH=src exec "$python" -m pytest -q -p no:cacheprovider "$@"
