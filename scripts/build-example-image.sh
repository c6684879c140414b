#!/usr/bin/env bash
# Builds the example image gantry-examples/hello:1 locally (there is no registry here): FROM
# scratch with the host's static busybox. The context is examples/hello-image/ plus the binary,
# assembled in a temporary directory so the repository holds no binaries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${IMAGE:-gantry-examples/hello:1}
BUSYBOX=${BUSYBOX:-/bin/busybox}

if [ ! -x "$BUSYBOX" ]; then
  echo "build-example-image: $BUSYBOX is missing: install busybox-static (Debian) or set BUSYBOX=/path/to/static/busybox" >&2
  exit 1
fi
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "build-example-image: $BUSYBOX is dynamically linked and cannot run FROM scratch: install busybox-static" >&2
  exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp examples/hello-image/Dockerfile examples/hello-image/start.sh "$context/"
cp "$BUSYBOX" "$context/busybox"

echo "build-example-image: building $IMAGE" >&2
if ! log=$(docker build --label io.gantry.example=1 -t "$IMAGE" "$context" 2>&1); then
  printf '%s\n' "$log" >&2
  echo "build-example-image: docker build failed" >&2
  exit 1
fi
echo "build-example-image: built $IMAGE" >&2
