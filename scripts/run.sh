#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: verityd on the
# default address (127.0.0.1:7420) and data directory (./verity-data).
# On first start it loads Fashion-MNIST-784 (60,000 images, with class names
# as text and metadata) and Debian's man pages (manpages, manpages-dev:
# ~12,700 chunks of 1,100 pages, rendered with man -l, in the text-only
# collection "manpages" with the english analyzer) so there is something
# real to query at once, by vector and by text.
# It also serves the HTTP/JSON API and the web console on 127.0.0.1:7422
# (docs/http.md, docs/console.md).
# Usage: scripts/run.sh [--listen HOST:PORT] [--data DIR] [--metrics-listen HOST:PORT]
#                      [--http-listen HOST:PORT] [other verityd flags]
#   (metrics default to 127.0.0.1:9464, the HTTP API to 127.0.0.1:7422; "" turns either off)
set -euo pipefail
cd "$(dirname "$0")/.."

listen=127.0.0.1:7420
data=./verity-data
metrics=127.0.0.1:9464  # Prometheus metrics on loopback (docs/metrics.md)
metrics_given=false     # given: verityd gets the caller's, and the hint below shows it
http=127.0.0.1:7422     # the HTTP/JSON API and the console (docs/http.md)
http_given=false
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --listen) listen="${args[$((i + 1))]:-}" ;;
    --listen=*) listen="${args[$i]#--listen=}" ;;
    --data) data="${args[$((i + 1))]:-}" ;;
    --data=*) data="${args[$i]#--data=}" ;;
    --metrics-listen) metrics="${args[$((i + 1))]:-}"; metrics_given=true ;;
    --metrics-listen=*) metrics="${args[$i]#--metrics-listen=}"; metrics_given=true ;;
    --http-listen) http="${args[$((i + 1))]:-}"; http_given=true ;;
    --http-listen=*) http="${args[$i]#--http-listen=}"; http_given=true ;;
  esac
done
extra=()
if [ "$metrics_given" = false ]; then
  extra=(--metrics-listen "$metrics")
fi
if [ "$http_given" = false ]; then
  extra+=(--http-listen "$http")
fi
if [ -n "$http" ]; then
  http_hint="The web console: http://$http/console/  The HTTP/JSON API (docs/http.md), e.g.:
  curl -s --json '{\"collection\":\"manpages\",\"text\":\"kill a process\",\"k\":3}' http://$http/v1/ContextService/Retrieve"
else
  http_hint="(the HTTP API and console are off: --http-listen HOST:PORT serves them)"
fi
if [ -n "$metrics" ]; then
  metrics_hint="curl -s http://$metrics/metrics | grep -E '^verity_(rpc_requests|collection_records)'"
else
  metrics_hint="(metrics are off: --metrics-listen HOST:PORT serves them)"
fi

bash scripts/setup.sh
bash scripts/build.sh verityd verity verity_demo
bash scripts/build_web.sh

# Render the man pages to chunks (cached: a second run finds its manifest
# and does nothing), then load both data sets directly into the data
# directory (once; resumable).
/usr/bin/python3 bench/text/manpages.py --out build/text-corpus/manpages
./build/bench/verity_demo --data "$data" --load-only --text-corpus build/text-corpus/manpages/chunks.jsonl

cat <<EOF2

verityd is starting on $listen with data in $data. In another terminal:

  ./build/client/verity --addr $listen collection list
  ./build/client/verity --addr $listen search fashion_mnist --vector-file $data/example-query.json -k 5
  ./build/client/verity --addr $listen search fashion_mnist --vector-file $data/example-query.json -k 5 --filter 'class = "Bag"'
  ./build/client/verity --addr $listen count fashion_mnist --filter 'label >= 5'
  ./build/client/verity --addr $listen get fashion_mnist 42 --json
  ./build/client/verity --addr $listen versions fashion_mnist
  ./build/client/verity --addr $listen snapshot create fashion_mnist baseline --description "as loaded"
  ./build/client/verity --addr $listen delete fashion_mnist 1 2 3
  ./build/client/verity --addr $listen snapshot create fashion_mnist after-delete
  ./build/client/verity --addr $listen snapshot diff fashion_mnist baseline after-delete
  ./build/client/verity --addr $listen count fashion_mnist --at baseline
  ./build/client/verity --addr $listen snapshot restore fashion_mnist baseline
  ./build/client/verity --addr $listen retrieve fashion_mnist --vector-file $data/example-query.json -k 3 --query-text "what is this?"
  ./build/client/verity --addr $listen answer RETRIEVAL_ID --text "An ankle boot, fashion-mnist train image 18094."
  ./build/client/verity --addr $listen audit RETRIEVAL_ID
  ./build/client/verity --addr $listen replay RETRIEVAL_ID --mode retrieval
  ./build/client/verity --addr $listen log verify

Text retrieval (BM25) over the man pages, then an answer and its groundedness audit:

  ./build/client/verity --addr $listen retrieve manpages --text "change the permissions of a file" -k 3
  ./build/client/verity --addr $listen answer RETRIEVAL_ID --text "Use chmod or fchmod to change the permissions of a file."
  ./build/client/verity --addr $listen audit RETRIEVAL_ID
  ./build/client/verity --addr $listen replay RETRIEVAL_ID --mode retrieval
  ./build/client/verity --addr $listen search manpages --text "create a child process" -k 5 --filter 'section = "2"'
  $metrics_hint

$http_hint

Stop it with Ctrl-C (it drains and saves the graph). docs/cli.md lists every command.

EOF2
# An empty --metrics-listen turns metrics off: verityd's default, so it is
# not passed on (verityd refuses an empty value).
pass=()
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --metrics-listen) if [ -z "${args[$((i + 1))]:-}" ]; then i=$((i + 1)); continue; fi ;;
    --metrics-listen=) continue ;;
    --http-listen) if [ -z "${args[$((i + 1))]:-}" ]; then i=$((i + 1)); continue; fi ;;
    --http-listen=) continue ;;
  esac
  pass+=("${args[$i]}")
done
exec ./build/server/verityd "${extra[@]}" "${pass[@]}"
