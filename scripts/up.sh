#!/usr/bin/env bash
# Deploy a stack (default: dev) with `pulumi up`. Needs the Pulumi CLI and AWS credentials.
#   State:   $PULUMI_BACKEND_URL when set (s3://bucket, https://api.pulumi.com, ...), else a local
#            file backend in .pulumi-state/ next to this project.
#   Secrets: the passphrase provider; export PULUMI_CONFIG_PASSPHRASE, or Pulumi prompts for it.
# Extra arguments go to `pulumi up` (e.g. --yes, --diff).
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift $(( $# > 0 ? 1 : 0 ))
if ! command -v pulumi >/dev/null 2>&1; then
  echo "error: the Pulumi CLI is not installed (https://www.pulumi.com/docs/iac/download-install/)" >&2
  exit 2
fi
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
pulumi install
pulumi stack select --create "$stack" --secrets-provider passphrase
pulumi up --stack "$stack" "$@"
