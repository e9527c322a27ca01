#!/usr/bin/env bash
# Builds the operator and data-node images as OCI tarballs (FROM scratch,
# linux/amd64) from static Go binaries, without a Docker engine.
#   hack/build-images.sh [OUT_DIR]   (default dist/images)
# Tags come from OPERATOR_IMG and NODE_IMG (default shoal/{operator,node}:dev).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist/images}"
operator_img="${OPERATOR_IMG:-shoal/operator:${IMG_TAG:-dev}}"
node_img="${NODE_IMG:-shoal/node:${IMG_TAG:-dev}}"
bindir="dist/linux-amd64"
mkdir -p "$out" "$bindir"

export CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local
ldflags="-s -w"
go build -trimpath -ldflags "$ldflags" -o "$bindir/shoal-operator" .
go build -trimpath -ldflags "$ldflags" -o "$bindir/shoal-node" ./node/cmd/shoal-node
GOOS= GOARCH= go build -o "$bindir/imagetool.host" ./hack/imagetool

"$bindir/imagetool.host" -tag "$operator_img" -out "$out/operator.tar" \
  -entrypoint /shoal-operator -file "$bindir/shoal-operator=/shoal-operator"
"$bindir/imagetool.host" -tag "$node_img" -out "$out/node.tar" \
  -entrypoint /shoal-node -ports 6379/tcp,16379/tcp -dir /data \
  -file "$bindir/shoal-node=/shoal-node"
echo "images: $out/operator.tar ($operator_img) $out/node.tar ($node_img)"
