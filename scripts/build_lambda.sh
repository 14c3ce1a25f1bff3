#!/usr/bin/env bash
# Build the ingest function's package folder for Terraform's archive_file.
#
# Copies the library's runtime packages (core, simulation, faults, cloud, ml)
# into build/lambda/smartfactory_lib and writes build/lambda/BUILD.json with
# the git commit and a UTC timestamp. The heavy dependencies (pandas, numpy,
# pyarrow, aws-lambda-powertools) are not copied: they come from Lambda
# layers (terraform variable lambda_layer_arns), because together they exceed
# the 250 MB unzipped limit of a zip package.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${1:-build/lambda}"
rm -rf "$OUT"
mkdir -p "$OUT/smartfactory_lib"
cp smartfactory_lib/__init__.py "$OUT/smartfactory_lib/"
for package in core simulation faults cloud ml; do
  cp -r "smartfactory_lib/$package" "$OUT/smartfactory_lib/"
done
find "$OUT" -name __pycache__ -prune -exec rm -rf {} +

commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# BUILT_AT lets the deploy workflow stamp the package, the release prefix and
# the S3 tags with one and the same moment.
built="${BUILT_AT:-$(date -u +%Y%m%dT%H%M%SZ)}"
printf '{"commit": "%s", "built_at": "%s"}\n' "$commit" "$built" > "$OUT/BUILD.json"
echo "Built $OUT (commit $commit, $built)"
