#!/usr/bin/env bash
# Installs what the tests and benchmarks need beyond the .NET SDK. Idempotent: each step runs
# only when its tool is missing, so CI and developers can call it on every run.
#   - s3rver 3.7.1 (npm) into <repo>/tests/tools/node_modules (pinned in tests/tools/package.json)
#   - Debian packages, only when running as root (no sudo needed; otherwise prints what to install):
#     redis-server (Redis clustering tests), chromium (dashboard browser test), docker-compose (validates
#     docker-compose.yml without a Docker engine), nodejs/npm when node is missing, and the S3 clients the gateway is
#     checked against: python3-boto3, awscli, s3cmd, rclone, s3fs (with fuse3) and python3-torch (tests/*/Gateway)
# Works on a fresh Debian 12 machine as root.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$repo_root/tests/tools"
status=0

# --- Debian packages -------------------------------------------------------------------------
missing_pkgs=()
command -v node >/dev/null 2>&1 || missing_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || missing_pkgs+=(npm)
command -v redis-server >/dev/null 2>&1 || missing_pkgs+=(redis-server)
# fonts-liberation is only a recommendation of chromium; without it the dashboard screenshot has no readable text.
command -v chromium >/dev/null 2>&1 || missing_pkgs+=(chromium fonts-liberation)
command -v docker-compose >/dev/null 2>&1 || missing_pkgs+=(docker-compose)
# S3 clients. Python modules are looked for in Debian's interpreter, where python3-* packages install them; a
# python3 first on PATH (pyenv, a venv) may have its own and would make the check pass or fail for the wrong one.
debian_python=/usr/bin/python3
[ -x "$debian_python" ] || debian_python=python3
"$debian_python" -c 'import boto3' >/dev/null 2>&1 || missing_pkgs+=(python3-boto3)
"$debian_python" -c 'import torch' >/dev/null 2>&1 || missing_pkgs+=(python3-torch)
# Debian's own CLI: an aws on PATH may be a pip or pyenv one of another major version.
[ -x /usr/bin/aws ] || missing_pkgs+=(awscli)
command -v s3cmd >/dev/null 2>&1 || missing_pkgs+=(s3cmd)
command -v rclone >/dev/null 2>&1 || missing_pkgs+=(rclone)
command -v s3fs >/dev/null 2>&1 || missing_pkgs+=(s3fs)
# s3fs unmounts with fusermount (package fuse3 on Debian 12, pulled in by s3fs; checked in case it was removed).
command -v fusermount >/dev/null 2>&1 || command -v fusermount3 >/dev/null 2>&1 || missing_pkgs+=(fuse3)

if [ ${#missing_pkgs[@]} -eq 0 ]; then
  echo "install-test-deps: Debian packages already present"
elif [ "$(id -u)" -eq 0 ]; then
  echo "install-test-deps: installing ${missing_pkgs[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No recommends: docker-compose would pull in the Docker engine (docker.io), which the tests never run.
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
else
  echo "install-test-deps: not root; please install: sudo apt-get install -y ${missing_pkgs[*]}" >&2
  status=1
fi

# --- s3rver ---------------------------------------------------------------------------------
if [ -x "$tools_dir/node_modules/.bin/s3rver" ]; then
  echo "install-test-deps: s3rver already installed in tests/tools/node_modules"
else
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install-test-deps: node and npm are required to install s3rver (apt-get install -y nodejs npm)" >&2
    status=1
  else
    echo "install-test-deps: installing s3rver 3.7.1 into tests/tools/ ..."
    npm install --prefix "$tools_dir" --no-audit --no-fund --loglevel=error
    if [ ! -x "$tools_dir/node_modules/.bin/s3rver" ]; then
      echo "install-test-deps: npm finished but tests/tools/node_modules/.bin/s3rver is missing" >&2
      status=1
    fi
  fi
fi

exit $status
