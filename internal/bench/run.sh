#!/usr/bin/env bash
# Whole-process benchmarks of movitera, measured side by side with their
# yardsticks in one run; writes docs/performance.md. `make bench` runs it
# after the Go benchmarks. Not part of `make test` or CI.
#
#   bash internal/bench/run.sh [flags of internal/bench, e.g. -runs 50 -logins 5]
#
# Needs hyperfine, wrk, curl and gh (Debian packages): installs the missing
# ones with apt-get. Every process it starts listens on 127.0.0.1 only.
set -euo pipefail

cd "$(dirname "$0")/../.."

need=()
for tool in hyperfine wrk curl gh script; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		case "$tool" in
		script) need+=(bsdutils) ;;
		*) need+=("$tool") ;;
		esac
	fi
done
if ((${#need[@]})); then
	echo "bench: installing ${need[*]} (apt-get)" >&2
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

exec go run ./internal/bench "$@"
