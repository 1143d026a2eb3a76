#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job. Until the gRPC
# server lands, the main job is the engine demo on real data: it opens the
# data directory (default ./verity-data), ingests Fashion-MNIST-784 once,
# and runs searches printing recall against exact search and timings.
# Usage: scripts/run.sh [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh verity_demo
exec ./build/bench/verity_demo "$@"
