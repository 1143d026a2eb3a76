#!/usr/bin/env bash
# Installs every Debian package Verity needs to build, test and run.
# Idempotent: packages already present are skipped, and apt-get runs only when
# something is missing. Must run as root (or with sudo available).
# --bench also installs what the benchmark suites (scripts/bench.sh,
# scripts/bench_text.sh) compare against, read and plot with.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # engine
  librocksdb-dev libhnswlib-dev libeigen3-dev libomp-dev libprotobuf-dev
  protobuf-compiler zlib1g-dev libssl-dev
  # server and client
  libgrpc++-dev protobuf-compiler-grpc
  # the HTTP listener (/metrics): a maintained HTTP/1.1 server library
  libcpp-httplib-dev
  # tests (chromium: headless rendering of the groundedness HTML report;
  # openssl: certificates for the TLS tests; clang and its runtime: libFuzzer)
  catch2 chromium openssl clang-14 libclang-rt-14-dev
  # real text and a lexicon for the groundedness benchmark's cases and their
  # self-check (bench/groundedness/make_cases.py): Debian's project history
  # and FAQ, WordNet's antonyms. The scorer's own lexicon is generated from
  # WordNet and wamerican's word list at build time
  # (engine/src/groundedness/make_lexicon.py)
  debian-history debian-faq wordnet-base wamerican
  # the Python client, its stubs (client/python/generate.sh) and its test
  python3-grpcio python3-protobuf python3-grpc-tools python3-numpy
  # full-text search: ICU (word breaks, case folding) and Snowball stemmers;
  # the main job's text collection and the text benchmark's known-item set:
  # Debian's man pages, rendered by man
  libicu-dev libstemmer-dev manpages manpages-dev man-db
  # the CLI (JSON input and output)
  nlohmann-json3-dev
  # real data for the demo and the benchmark
  dataset-fashion-mnist
  # the HTTP/JSON API's curl examples check their answers with jq
  # (tests/http/curl_examples_test.py)
  jq
  # the main job's hint to read the metrics endpoint (docs/metrics.md)
  curl
  # promtool, for the alert rules' tests (docs/alerts/, CTest
  # monitoring_alert_rules). The package also ships the Prometheus server:
  # on a systemd host its postinst enables and starts prometheus.service
  # (port 9090; `systemctl disable --now prometheus` if unwanted); without
  # systemd, see the policy-rc.d guard below
  prometheus
)
if [ "${1:-}" = "--bench" ]; then
  # FAISS (IndexHNSWFlat, IndexFlatL2) and the recall-QPS plot
  PACKAGES+=(libfaiss-dev python3-matplotlib)
  # the text benchmark (scripts/bench_text.sh) compares with Xapian and
  # Lucene 8 (bench/text/LuceneBench.java: the jars and javac) and reads the
  # kernel's and Python's documentation (speed-at-scale passages)
  PACKAGES+=(libxapian-dev liblucene8-java openjdk-17-jdk-headless linux-doc python3-doc)
fi

# The web console, the TypeScript client and the OpenAPI check are npm
# packages (console/, client/typescript/, tools/openapi-check/): they need
# Node.js >= 20 and npm. A machine without node gets Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
# Without systemd (a container), a package's postinst may still try its
# init script when a runlevel is known, and fail the install if the service
# cannot start there (prometheus's script raises its open-file limit). A
# policy-rc.d that answers 101 ("action forbidden", Debian's invoke-rc.d
# interface) keeps services from starting during this install only; an
# existing policy-rc.d (Docker images ship one) is left alone.
POLICY_RC_D=/usr/sbin/policy-rc.d
if [ ! -d /run/systemd/system ] && [ ! -e "$POLICY_RC_D" ]; then
  printf '#!/bin/sh\n# scripts/setup.sh: no service starts during its apt-get install\nexit 101\n' |
    $SUDO tee "$POLICY_RC_D" >/dev/null
  $SUDO chmod 755 "$POLICY_RC_D"
  trap '$SUDO rm -f "$POLICY_RC_D"' EXIT
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
