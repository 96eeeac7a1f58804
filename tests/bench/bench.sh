#!/bin/sh
# make bench: enrollments per second of the demo stack (lighttpd, four
# microca-est workers, the intermediate's EC P-256 key in SoftHSMv2, the
# ledger with synchronous=FULL), measured next to the limits under it on
# the same machine, in the same run.
#
# Usage: bench.sh SRCDIR BUILDDIR OUT
#   OUT gets the stack (OUT/stack), results (OUT/results: one key=value
#   line per measurement) and report.md; SRCDIR/doc/PERFORMANCE.md gets
#   the report between its "bench:begin" and "bench:end" marks.
# Environment:
#   BENCH_SCALE    divides every enrollment count (default 1; the smoke
#                  test uses a large one to run it all in seconds)
#   BENCH_WORKERS  microca-est processes (default 4)
#   BENCH_CFLAGS   the CFLAGS of the build: sanitizer or unoptimised
#                  builds are refused, their numbers mean nothing
#   BENCH_NO_DOC   set: do not touch doc/PERFORMANCE.md
#   BENCH_SECONDS  length of each limit measurement (default 3)
#   BENCH_SMOKE    set: any build will do (tests/bench/smoke.test checks
#                  that the benchmark runs, not what it measures)
#   BENCH_ONLY     "flood": only the refusal flood (on a fresh stack), its
#                  results line and no report; "ab": only the A/B of the
#                  keep-alive enroll rate against BENCH_AB_BUILD; "disc":
#                  only the discovery scan (no stack), its results line
#                  and its part of the report (between "disc:begin" and
#                  "disc:end")
#   BENCH_AB_BUILD another build (e.g. of the commit before a change), for
#                  BENCH_ONLY=ab: its microca-est runs the second stack
#   BENCH_AB_ROUNDS rounds of the A/B (default 5)
set -eu

src=$1
build=$2
out=$3
scale=${BENCH_SCALE:-1}
workers=${BENCH_WORKERS:-4}
load=$build/tests/bench/microca-load
prog=bench

say() { echo "$prog: $*" >&2; }
die() { echo "$prog: $*" >&2; exit 1; }

secs=${BENCH_SECONDS:-3}
only=${BENCH_ONLY:-}
case $only in
""|flood|ab|disc) ;;
*) die "BENCH_ONLY: \"$only\": expected flood, ab or disc" ;;
esac
[ -n "${BENCH_SMOKE:-}" ] || case " ${BENCH_CFLAGS:-} " in
*-fsanitize*) die "this build has sanitizers (CFLAGS: $BENCH_CFLAGS);" \
	"configure a separate build with the default CFLAGS for make bench" ;;
*" -O2 "*|*" -O3 "*) ;;
*) die "this build is not optimised (CFLAGS: ${BENCH_CFLAGS:-}); use -O2" ;;
esac
for p in "$build/microca-est" "$load" "$build/tests/bench/signrate" \
    "$build/tests/bench/syncrate" "$build/tests/bench/scanrate"; do
	[ -x "$p" ] || die "$p is missing (make bench builds it)"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
stack=$out/stack
results=$out/results
: > "$results"
hz=$(getconf CLK_TCK)

qs() {
	MICROCA_EST=$build/microca-est MICROCA_DEMO_DIR=$stack \
	    MICROCA_DEMO_PORT=$port MICROCA_DEMO_WORKERS=$workers \
	    sh "$src/quickstart" "$@"
}
stop_stack() {
	[ -d "$stack" ] && qs stop >/dev/null 2>&1 || true
	# The A/B's other stack, if it runs.
	[ -n "${ab_stack:-}" ] && [ -d "$ab_stack" ] &&
	    { stack=$ab_stack; qs stop >/dev/null 2>&1; } || true
}
trap stop_stack EXIT
trap 'exit 1' INT TERM

# A fresh stack on a free port: a new PKI, token and empty ledger.
start_stack() {
	i=0
	while :; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		qs start >"$out/quickstart.log" 2>&1 && break
		i=$((i + 1))
		[ $i -lt 5 ] || { cat "$out/quickstart.log" >&2; die "the stack did not start"; }
	done
	# shellcheck disable=SC1091
	. "$stack/demo.env"
}

# Sum of user+system CPU ticks of lighttpd and the workers.
server_ticks() {
	for pid in $(cat "$stack/web/pid" "$stack/web/workers"); do
		# fields after the ")" of comm: 14 utime, 15 stime overall
		sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'
	done | awk '{ s += $1 } END { print s + 0 }'
}

worker_rss() { # KiB of each worker, space separated
	for pid in $(cat "$stack/web/workers"); do
		awk '/^VmRSS:/ { printf "%s ", $2 }' "/proc/$pid/status"
	done
}

record() { echo "$*" >> "$results"; }

# measure TAG LABEL KEYTYPE MODE CLIENTS TOTAL: one load run; its result
# line (with the server's CPU per enrollment) into $run_line.
measure() {
	tag=$1 label=$2 kt=$3 mode=$4 c=$5
	n=$(( $6 / scale / c ))
	[ "$n" -ge 1 ] || n=1
	url=$MICROCA_URL
	[ -z "$label" ] || url=$url/$label
	t0=$(server_ticks)
	line=$("$load" --url "$url" --cacert "$MICROCA_TLS_CA" \
	    --cert "$MICROCA_BOOTSTRAP_CERT" --key "$MICROCA_BOOTSTRAP_KEY" \
	    --key-type "$kt" --mode "$mode" --clients "$c" --count "$n" \
	    --max-seconds 600) || {
		record "run=$tag label=$label key=$kt $line failed=1"
		die "$tag: $mode c=$c: errors: $line"
	}
	t1=$(server_ticks)
	cpu=$(echo "$line $t0 $t1" | awk -v hz="$hz" '{
	    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	    printf "%.3f", ($(NF) - $(NF - 1)) * 1000 / hz / v["ok"] }')
	run_line="run=$tag label=$label key=$kt $line cpu_ms=$cpu"
	say "$tag: $mode c=$c: $line cpu_ms=$cpu"
}

# enroll TAG LABEL KEYTYPE MODE CLIENTS TOTAL: one measured load run.
enroll() {
	measure "$@"
	record "$run_line"
}

# enroll3 (the same arguments): three runs, the median by rate recorded,
# with all three rates. For the runs the targets compare: one run on
# this VM varies by about 10% from the next.
enroll3() {
	: > "$out/three"
	for i in 1 2 3; do
		measure "$@"
		echo "$run_line" >> "$out/three"
	done
	rates=$(sed 's/.* rate=\([0-9.]*\) .*/\1/' "$out/three" | tr '\n' '/' |
	    sed 's|/$||')
	record "$(awk '{ match($0, / rate=[0-9.]+ /);
	    print substr($0, RSTART + 6, RLENGTH - 7), $0 }' "$out/three" |
	    sort -n | sed -n '2s/^[^ ]* //p') rates=$rates"
	rm -f "$out/three"
}

# ---- refusals under a flood: 100,000 anonymous enrollments (no
# certificate, no passcode: 401 each, every one a refusal for the
# ledger) from 4 keep-alive clients at BENCH_FLOOD_RATE a second
# (default 1000: on two cores an unpaced flood takes the CPU from
# everything else, which says nothing about the ledger), while one
# normal client enrolls (keep-alive). The refusals table must stay
# bounded (at most refusals_per_minute_max rows a minute, the rest
# counted), and the enrolling client keep its rate: the same run alone
# first, then during the flood. It stops the stack at the end: the
# workers write their last second of counts when they stop.
flood_part() {
	fl_total=$((100000 / scale))
	fl_c=4
	fl_rate=${BENCH_FLOOD_RATE:-1000}
	fl_n=$((fl_total / fl_c))
	[ "$fl_n" -ge 1 ] || fl_n=1
	cap=$(sed -n 's/.*"refusals_per_minute_max": *\([0-9]*\).*/\1/p' \
	    "$MICROCA_CONFIG")
	cap=${cap:-600}
	q() { sqlite3 "$MICROCA_LEDGER" "$1"; }
	measure flood_alone device ec keepalive 1 6000
	alone=$(echo "$run_line" | sed 's/.* rate=\([0-9.]*\) .*/\1/')
	record "$run_line"
	rows0=$(q 'SELECT count(*) FROM refusals')
	counted0=$(q 'SELECT coalesce(sum(n), 0) FROM refusal_counts')
	say "flood: $((fl_n * fl_c)) anonymous enrollments, c=$fl_c," \
	    "keep-alive, $fl_rate/s"
	f0=$(date +%s.%N)
	# Every answer is a 401: microca-load counts them as status_401 and
	# exits 1; what matters is that nothing else came back.
	"$load" --url "$MICROCA_URL" --cacert "$MICROCA_TLS_CA" \
	    --mode keepalive --clients $fl_c --count $fl_n --rate $fl_rate \
	    --max-seconds 900 \
	    > "$out/flood.line" 2>"$out/flood.err" &
	fl_pid=$!
	# Let the flood get going: the enrolling run overlaps it in full.
	sleep 1
	measure flood_during device ec keepalive 1 6000
	during=$(echo "$run_line" | sed 's/.* rate=\([0-9.]*\) .*/\1/')
	overlap=1
	kill -0 $fl_pid 2>/dev/null || overlap=0
	record "$run_line overlap=$overlap"
	wait $fl_pid || true
	f1=$(date +%s.%N)
	fl_line=$(cat "$out/flood.line")
	say "flood: $fl_line"
	n401=$(echo "$fl_line" | tr ' ' '\n' | sed -n 's/^status_401=//p')
	[ "${n401:-0}" = $((fl_n * fl_c)) ] ||
	    die "flood: not every answer was a 401: $fl_line"
	# The workers write their counts at most once a second: wait for it.
	sleep 2
	qs stop >/dev/null
	rows1=$(q 'SELECT count(*) FROM refusals')
	counted1=$(q 'SELECT coalesce(sum(n), 0) FROM refusal_counts')
	secs_fl=$(echo "$f0 $f1" | awk '{ printf "%.1f", $2 - $1 }')
	# At most cap rows in each minute the flood touched.
	bound=$(echo "$secs_fl $cap" | awk '{ printf "%d", (int($1 / 60) + 2) * $2 }')
	record "flood requests=$((fl_n * fl_c)) status_401=$n401 paced=$fl_rate" \
	    "seconds=$secs_fl rate=$(echo "$fl_line" | sed 's/.* rate=\([0-9.]*\) .*/\1/')" \
	    "rows_before=$rows0 rows_after=$rows1 counted_before=$counted0" \
	    "counted_after=$counted1 cap=$cap bound=$bound" \
	    "enroll_alone=$alone enroll_during=$during overlap=$overlap"
	say "flood: refusals rows $rows0 -> $rows1 (bound $bound)," \
	    "counted $counted0 -> $counted1; enroll $alone/s alone," \
	    "$during/s during the flood (overlap $overlap)"
}

# ---- A/B: the keep-alive enroll rate (c=16, EC) of this build (A) and
# of BENCH_AB_BUILD (B), each on its own stack started alike, in rounds
# A B A B ... so that both see the same machine (other load, the disk's
# state) in turn; one results line per run, tag ab_a or ab_b, and the
# medians and their ratio.
ab_part() {
	b_build=${BENCH_AB_BUILD:?BENCH_ONLY=ab needs BENCH_AB_BUILD}
	[ -x "$b_build/microca-est" ] || die "$b_build/microca-est is missing"
	a_build=$build a_stack=$stack ab_stack=$out/stack-b
	rm -rf "$ab_stack"
	stack=$ab_stack build=$b_build
	say "A/B: stack B ($b_build) in $stack"
	start_stack
	stack=$a_stack build=$a_build
	rounds=${BENCH_AB_ROUNDS:-5}
	: > "$out/ab"
	r=0
	while [ $r -lt "$rounds" ]; do
		for s in a b; do
			if [ $s = a ]; then stack=$a_stack; else stack=$ab_stack; fi
			# shellcheck disable=SC1091
			. "$stack/demo.env"
			measure ab_$s device ec keepalive 16 16000
			record "$run_line"
			echo "$s $(echo "$run_line" |
			    sed 's/.* rate=\([0-9.]*\) .*/\1/')" >> "$out/ab"
		done
		r=$((r + 1))
	done
	stack=$a_stack
	ma=$(awk '$1 == "a" { print $2 }' "$out/ab" | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	mb=$(awk '$1 == "b" { print $2 }' "$out/ab" | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	record "ab rounds=$rounds a_median=$ma b_median=$mb" \
	    "a_over_b=$(echo "$ma $mb" | awk '{ printf "%.3f", $1 / $2 }')" \
	    "b_build=\"$b_build\""
	say "A/B: median keep-alive enroll rate A $ma/s, B $mb/s"
}

# ---- discovery: files/s of the certificate scan (lib/discover_walk.c)
# over a generated tree of 100,000 files (tests/bench/scanrate.c says
# the mix), first scan and rescan of the unchanged tree, the median of
# three of each on a warm page cache; with the load the machine had.
disc_part() {
	dn=$((100000 / scale))
	[ "$dn" -ge 200 ] || dn=200
	say "discovery: a tree of $dn files"
	rm -rf "$out/disc-tree"
	dl=$("$build/tests/bench/scanrate" -n $dn -r 3 -d "$out/disc-tree") ||
	    die "scanrate failed"
	rm -rf "$out/disc-tree"
	record "disc $dl cpus=$(nproc) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
	say "discovery: $dl"
}

# Puts report part PART (report.awk) of the results between the marks
# "PART:begin" and "PART:end" of doc/PERFORMANCE.md.
write_doc() {
	awk -v part="$1" -f "$src/tests/bench/report.awk" "$results" \
	    > "$out/report-$1.md"
	[ -z "${BENCH_NO_DOC:-}" ] || return 0
	doc=$src/doc/PERFORMANCE.md
	awk -v rep="$out/report-$1.md" -v b="<!-- $1:begin -->" \
	    -v e="<!-- $1:end -->" '
	    $0 == b { print; while ((getline l < rep) > 0) print l; skip = 1; next }
	    $0 == e { skip = 0 }
	    !skip' "$doc" > "$doc.tmp"
	mv "$doc.tmp" "$doc"
	say "wrote $doc ($1)"
}

if [ "$only" = disc ]; then
	disc_part
	write_doc disc
	say "results in $results"
	exit 0
fi

# ---- the stack, and the limits next to it
say "starting the stack in $stack"
rm -rf "$stack"
start_stack
module=$(sed -n 's/.*"pkcs11_library": "\(.*\)".*/\1/p' "$MICROCA_CONFIG")

if [ "$only" = flood ]; then
	flood_part
	say "results in $results"
	exit 0
fi
if [ "$only" = ab ]; then
	ab_part
	say "results in $results"
	exit 0
fi

record "machine cpus=$(nproc) model=\"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)\"" \
    "mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
    "kernel=$(uname -r) os=\"$(. /etc/os-release && echo "$PRETTY_NAME")\"" \
    "openssl=\"$(openssl version | cut -d' ' -f1-2)\" workers=$workers"

say "limits: openssl speed ecdsap256"
speed=$(openssl speed -seconds $secs -mr ecdsap256 2>/dev/null |
    awk -F: '/^\+F4:/ { printf "%.0f", $4 }')
record "limit=openssl_ecdsap256_sign rate=$speed"

say "limits: SoftHSMv2 through libp11"
for np in 1 2; do
	l=$(SOFTHSM2_CONF=$stack/pki/softhsm2.conf "$build/tests/bench/signrate" \
	    --module "$module" --label microca-ca --pin 1234 --procs $np --seconds $secs)
	record "limit=softhsm_sign $l"
done

say "limits: fdatasync on the ledger's disk"
record "limit=fdatasync $("$build/tests/bench/syncrate" "$(dirname "$MICROCA_LEDGER")" $secs)"

# SQLite's own commit rate on that disk, the ledger's settings: one
# durable single-row transaction at a time, from one process.
say "limits: single-row commits in a WAL database with synchronous=FULL"
db=$(dirname "$MICROCA_LEDGER")/bench-commits.db
rm -f "$db" "$db-wal" "$db-shm"
sqlite3 "$db" 'PRAGMA journal_mode=WAL;' 'CREATE TABLE t (x BLOB);' >/dev/null
ncommit=$((5000 / scale + 1))
{
	echo 'PRAGMA synchronous=FULL;'
	i=0
	while [ $i -lt $ncommit ]; do
		echo 'INSERT INTO t VALUES (randomblob(1200));'
		i=$((i + 1))
	done
} > "$out/commits.sql"
t0=$(date +%s.%N)
sqlite3 "$db" < "$out/commits.sql"
t1=$(date +%s.%N)
rm -f "$db" "$db-wal" "$db-shm" "$out/commits.sql"
record "limit=sqlite_commit commits=$ncommit" \
    "rate=$(echo "$t0 $t1" | awk -v n=$ncommit '{ printf "%.0f", n / ($2 - $1) }')"

say "limits: /cacerts"
for mode in keepalive fresh; do
	l=$("$load" --op cacerts --url "$MICROCA_URL" --cacert "$MICROCA_TLS_CA" \
	    --cert "$MICROCA_BOOTSTRAP_CERT" --key "$MICROCA_BOOTSTRAP_KEY" \
	    --mode $mode --clients 16 --count $((20000 / scale / 16 + 1)) \
	    --max-seconds 120) || die "/cacerts $mode: $l"
	record "limit=cacerts $l"
done

# ---- enrollment, empty ledger
rss0=$(worker_rss)
for mode in keepalive fresh; do
	for c in 1 4 16; do
		case $mode.$c in
		keepalive.1) total=3000 ;;
		keepalive.*) total=16000 ;;
		fresh.1) total=2000 ;;
		fresh.*) total=8000 ;;
		esac
		if [ "$c" = 16 ]; then
			enroll3 empty device ec $mode $c $total
		else
			enroll empty device ec $mode $c $total
		fi
	done
done
enroll rsa user rsa keepalive 16 8000

# ---- worker memory over 100,000 enrollments
rss1=$(worker_rss)
say "memory: 100000 enrollments (keep-alive, c=16)"
enroll rss device ec keepalive 16 100000
rss2=$(worker_rss)
record "rss start_kib=\"$rss0\" warm_kib=\"$rss1\" after_kib=\"$rss2\"" \
    "enrollments=$((100000 / scale / 16 * 16))" \
    "worker_private_kib=\"$(for p in $(cat "$stack/web/workers"); do
	awk '/^(Private_Clean|Private_Dirty):/ { s += $2 } END { printf "%d ", s }' \
	    "/proc/$p/smaps_rollup"; done)\"" \
    "worker_pss_kib=\"$(for p in $(cat "$stack/web/workers"); do
	awk '/^Pss:/ { printf "%d ", $2 }' "/proc/$p/smaps_rollup"; done)\"" \
    "worker_libcrypto_kib=$(awk '/^[0-9a-f]+-/ { lib = ($6 ~ /libcrypto/) }
	/^Rss:/ && lib { s += $2 } END { print s + 0 }' \
	"/proc/$(head -n 1 "$stack/web/workers")/smaps")"

# ---- the same with 1,000,000 certificates in the ledger
rows=$((1000000 / scale))
say "filling the ledger to $rows certificates"
qs stop >/dev/null
pem=$(sqlite3 "$MICROCA_LEDGER" 'SELECT pem FROM certificates LIMIT 1')
have=$(sqlite3 "$MICROCA_LEDGER" 'SELECT count(*) FROM certificates')
owner=$(stat -c %U:%G "$MICROCA_LEDGER")
sqlite3 "$MICROCA_LEDGER" >/dev/null <<EOT
PRAGMA synchronous=OFF;
PRAGMA cache_size=-262144;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < $rows - $have)
INSERT INTO certificates (serial, subject, issuer, not_before, not_after,
    label, operation, requester_subject, requester_serial,
    requester_issuer, remote_addr, sha1, sha256, key_type, key_origin, pem,
    issued_at)
SELECT upper(hex(randomblob(16))), 'CN=dev-fill-' || i || ',O=Example Corp',
    'CN=microca demo CA', strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
    printf('%d days', -(i % 700))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
    printf('%+d days', 365 - i % 700)), 'device', 'enroll',
    'CN=bootstrap', upper(hex(randomblob(16))), 'CN=boot CA', '127.0.0.1',
    upper(hex(randomblob(20))), upper(hex(randomblob(32))), 'EC P-256',
    'client', '$pem', strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
    printf('%d days', -(i % 700)))
FROM n;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOT
chown "$owner" "$MICROCA_LEDGER"*
# The fill ran without syncs: let the kernel write its gigabyte back now,
# not during the runs it would slow down.
sync
record "ledger rows=$(sqlite3 "$MICROCA_LEDGER" 'SELECT count(*) FROM certificates')" \
    "bytes=$(stat -c %s "$MICROCA_LEDGER")"
start_stack
# The stack has just restarted on a ledger written in one go: one
# unmeasured run first, as the empty ledger's runs had the c=1 and c=4
# runs before them.
measure warmup device ec keepalive 16 4000
enroll3 full device ec keepalive 16 16000
enroll3 full device ec fresh 16 8000

# ---- the same without the fsync of each IssuedCerts copy
say "again with issued_certs_synchronous OFF"
qs stop >/dev/null
sed 's|^{$|{ "issued_certs_synchronous": "OFF",|' "$stack/config.json" \
    > "$stack/config.json.new"
cat "$stack/config.json.new" > "$stack/config.json"
rm -f "$stack/config.json.new"
grep -q '"issued_certs_synchronous": "OFF"' "$stack/config.json" ||
    die "$stack/config.json: cannot set issued_certs_synchronous"
start_stack
enroll nosync device ec keepalive 16 16000
enroll nosync device ec fresh 16 8000
flood_part
stop_stack
disc_part

# ---- the report
awk -f "$src/tests/bench/report.awk" "$results" > "$out/report.md"
if [ -z "${BENCH_NO_DOC:-}" ]; then
	doc=$src/doc/PERFORMANCE.md
	awk -v rep="$out/report.md" '
	    /<!-- bench:begin -->/ { print; while ((getline l < rep) > 0) print l; skip = 1; next }
	    /<!-- bench:end -->/ { skip = 0 }
	    !skip' "$doc" > "$doc.tmp"
	mv "$doc.tmp" "$doc"
	say "wrote $doc"
fi
write_doc disc
say "results in $results, report in $out/report.md"
