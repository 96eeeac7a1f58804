#!/bin/sh
# make stress: does /cacerts still answer while slow clients hold the web
# server's connections? For lighttpd and Apache in turn, the demo stack
# (./quickstart's PKI and config, the web server configuration from
# conf-examples/ through scripts/microca-web), then:
#   1. /cacerts alone: microca-load, fresh connections (as devices come);
#   2. microca-slowloris opens STRESS_CONNS (default 2000) TLS connections
#      from 127.0.0.2 that send one header line every 5 s and never end
#      their request (reopened when the server closes them); after the
#      ramp, the same /cacerts measurement from 127.0.0.1, each request
#      given 10 s;
#   3. the slow clients' counters: how many the server closed, and when.
# Then, behind lighttpd, real enrollments (one client, keep-alive, the
# bootstrap certificate) alone and during a flood of wrong enrollment
# passcodes on one real passcode ID (four clients, keep-alive), without
# failure budgets (each wrong secret costs a scrypt, as before them) and
# with the default budgets (cgi/basicauth.c).
# Loopback only; every tool stops by itself.
#
# Usage: stress.sh SRCDIR BUILDDIR OUT
#   OUT gets the stacks, results (one key=value line per measurement) and
#   report.md; SRCDIR/doc/PERFORMANCE.md gets the report between its
#   "stress:begin" and "stress:end" marks.
# Environment:
#   STRESS_CONNS     slow connections (default 2000)
#   STRESS_SECONDS   length of the measurement under attack (default 30)
#   STRESS_SERVERS   default "lighttpd apache"
#   STRESS_FLOOD     0: no passcode flood
#   STRESS_TAG       a name for this run in the report (default "after")
#   STRESS_CONF_DIR  the web server configurations (default
#                    SRCDIR/conf-examples), to measure others
#   STRESS_NO_DOC    set: do not touch doc/PERFORMANCE.md
#   BENCH_CFLAGS     as for make bench: sanitizer builds are refused
#   STRESS_SMOKE     set: any build will do (tests/bench/slowloris.test)
set -eu

src=$1
build=$2
out=$3
conns=${STRESS_CONNS:-2000}
secs=${STRESS_SECONDS:-30}
servers=${STRESS_SERVERS:-lighttpd apache}
tag=${STRESS_TAG:-after}
confdir=${STRESS_CONF_DIR:-$src/conf-examples}
load=$build/tests/bench/microca-load
slow=$build/tests/bench/microca-slowloris
prog=stress

say() { echo "$prog: $*" >&2; }
die() { echo "$prog: $*" >&2; exit 1; }

[ -n "${STRESS_SMOKE:-}" ] || case " ${BENCH_CFLAGS:-} " in
*-fsanitize*) die "this build has sanitizers (CFLAGS: $BENCH_CFLAGS);" \
	"configure a separate build with the default CFLAGS for make stress" ;;
esac
for p in "$build/microca-est" "$load" "$slow"; do
	[ -x "$p" ] || die "$p is missing (make stress builds it)"
done
need=$((conns + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $need ]; then
	ulimit -n $need 2>/dev/null ||
	    die "ulimit -n is $(ulimit -n); $need descriptors are needed" \
		"for $conns connections (raise ulimit -Hn or STRESS_CONNS)"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
results=$out/results
: > "$results"
demo=$out/demo

qs() {
	MICROCA_EST=$build/microca-est MICROCA_DEMO_DIR=$demo \
	    MICROCA_DEMO_PORT=$port sh "$src/quickstart" "$@"
}
stop_all() {
	[ -d "$demo" ] && qs stop >/dev/null 2>&1 || true
	[ -d "$out/web" ] && sh "$src/scripts/microca-web" stop "$out/web" \
	    >/dev/null 2>&1 || true
}
trap stop_all EXIT
trap 'exit 1' INT TERM

record() { echo "$*" >> "$results"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# The demo's PKI and config, made once by ./quickstart (then stopped).
say "making the demo stack in $demo"
rm -rf "$demo" "$out/web"
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
qs start >"$out/quickstart.log" 2>&1 || {
	cat "$out/quickstart.log" >&2; die "the demo did not start"; }
. "$demo/demo.env"
user=$(stat -c %U "$MICROCA_LEDGER")
qs stop >/dev/null

# start_web KIND: the server on a free port, the demo's files behind it.
start_web() {
	MICROCA_EST=$build/microca-est \
	    MICROCA_EST_ARGS="--logFile $demo/microca.log" \
	    MICROCA_CONFIG="$MICROCA_CONFIG" \
	    SOFTHSM2_CONF="$demo/pki/softhsm2.conf" \
	    MCA_WEB_TLS_CERT="$demo/pki/server.pem" \
	    MCA_WEB_TLS_KEY="$demo/pki/server.key" \
	    MCA_WEB_CLIENT_CA="$demo/client-ca.pem" \
	    MCA_WEB_WORKERS=${STRESS_WORKERS:-2} MCA_WEB_USER=$user \
	    MCA_WEB_CONF_DIR="$confdir" MCA_WEB_OWNER_PID=$$ \
	    sh "$src/scripts/microca-web" start "$1" "$out/web"
}

# cacerts URL: /cacerts with fresh connections, each given 10 s, for
# about $secs seconds; the result line.
cacerts() {
	"$load" --op cacerts --url "$1" --cacert "$MICROCA_TLS_CA" \
	    --mode fresh --clients 2 --count 100000 --timeout 10 \
	    --max-seconds "$secs" 2>>"$out/load.err" || true
}

for kind in $servers; do
	say "$kind: starting"
	base=$(start_web "$kind") || die "$kind did not start"
	url=$base/.well-known/est

	say "$kind: /cacerts alone"
	line=$(cacerts "$url")
	record "tag=$tag server=$kind phase=alone $line"
	say "$kind: alone: $(field ok "$line") ok, $(field errors "$line") errors," \
	    "p50 $(field p50_ms "$line") ms p99 $(field p99_ms "$line") ms"

	# The slow clients for the ramp (rate 500/s, up to 10 s), the
	# measurement and 5 s more.
	ramp=$((conns / 500 + 6))
	[ $ramp -le 10 ] || ramp=10
	say "$kind: $conns slow connections from 127.0.0.2"
	"$slow" --url "$base/.well-known/est/cacerts" --connections "$conns" \
	    --interval 5 --rate 500 --seconds $((ramp + secs + 5)) \
	    --source 127.0.0.2 > "$out/slow.out" 2>"$out/slow.err" &
	spid=$!
	sleep $ramp
	held=$(ss -Htn state established "( sport = :$(cat "$out/web/port") )" \
	    2>/dev/null | grep -c '127\.0\.0\.2' || true)
	say "$kind: $held slow connections established; measuring /cacerts"
	line=$(cacerts "$url")
	wait $spid || die "microca-slowloris failed: $(cat "$out/slow.err")"
	record "tag=$tag server=$kind phase=attack conns=$conns held=$held $line"
	record "tag=$tag server=$kind phase=slow $(cat "$out/slow.out")"
	say "$kind: under attack: $(field ok "$line") ok, $(field errors "$line")" \
	    "errors, p50 $(field p50_ms "$line") ms p99 $(field p99_ms "$line") ms"
	say "$kind: slow clients: $(cat "$out/slow.out")"
	sh "$src/scripts/microca-web" stop "$out/web" >/dev/null
done

# ---- a flood of wrong passcodes
# flood NAME JSON: the stack with JSON added to config.json's top level,
# a new passcode, enrollments alone and during the flood.
flood() {
	sed "s|^{\$|{ $2|" "$demo/config.json.orig" > "$MICROCA_CONFIG"
	qs start >"$out/quickstart.log" 2>&1 || {
		cat "$out/quickstart.log" >&2; die "the demo did not start"; }
	pc=$(runuser -u "$user" -- "$build/microca-admin" --config \
	    "$MICROCA_CONFIG" passcode add --label device |
	    sed -n 's/^passcode //p')
	[ -n "$pc" ] || die "microca-admin passcode add failed"
	wrong="device:${pc%%.*}.00000000000000000000000000"
	enr() {
		"$load" --url "$MICROCA_URL" --cacert "$MICROCA_TLS_CA" \
		    --cert "$MICROCA_BOOTSTRAP_CERT" \
		    --key "$MICROCA_BOOTSTRAP_KEY" --mode keepalive \
		    --clients 1 "$@" 2>>"$out/load.err" || true
	}
	record "flood=$1 phase=alone $(enr --count 400 --max-seconds $secs)"
	"$load" --url "$MICROCA_URL" --cacert "$MICROCA_TLS_CA" \
	    --basic "$wrong" --mode keepalive --clients 4 --count 1000000 \
	    --pool 4 --max-seconds $((secs + 4)) > "$out/flood.out" \
	    2>>"$out/load.err" &
	fpid=$!
	sleep 2
	record "flood=$1 phase=flood $(enr --count 1000000 --max-seconds $secs)"
	wait $fpid || true
	record "flood=$1 phase=attacker $(cat "$out/flood.out")" \
	    "failures=$(runuser -u "$user" -- sqlite3 "$MICROCA_LEDGER" "SELECT failures FROM \
	    passcodes WHERE id = '${pc%%.*}'")"
	say "flood $1: $(tail -n 3 "$results" | cut -c1-200)"
	qs stop >/dev/null
}
if [ "${STRESS_FLOOD:-1}" != 0 ]; then
	cp "$MICROCA_CONFIG" "$demo/config.json.orig"
	flood none '"passcode_failures_max": 0, "passcode_address_failures_max": 0,'
	flood default ''
	cat "$demo/config.json.orig" > "$MICROCA_CONFIG"
fi

awk -v day="$(date -u +%F)" -f "$src/tests/bench/stress.awk" "$results" > "$out/report.md"
if [ -z "${STRESS_NO_DOC:-}" ]; then
	doc=$src/doc/PERFORMANCE.md
	awk -v rep="$out/report.md" -v tag="$tag" '
	    $0 == "<!-- stress:" tag ":begin -->" {
		print; while ((getline l < rep) > 0) print l; skip = 1; next }
	    $0 == "<!-- stress:" tag ":end -->" { skip = 0 }
	    !skip' "$doc" > "$doc.tmp"
	mv "$doc.tmp" "$doc"
	say "wrote $doc ($tag)"
fi
say "results in $results, report in $out/report.md"
