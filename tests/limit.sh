#!/bin/sh
# The outer time limit on one test suite: "make check" runs every suite
# through this (LOG_COMPILER), so that a hang fails that suite with a
# clear message instead of holding up the run, or CI, forever.
#
# Usage: sh tests/limit.sh PROGRAM [ARG...]
#
# MCA_SUITE_TIMEOUT  seconds for the whole suite (default 3600); 0: none.
#
# The limit is no measure of speed: the longest suite, the benchmark's
# smoke test, took 19 minutes under the sanitizers on two cores pinned
# by busy loops, with other builds and tests running (load average
# about 20); most take a minute or two. Only a hang comes near an hour,
# and inside a Check suite every test has its own, smaller limit
# (CK_DEFAULT_TIMEOUT, 600 s under make check) that names the test.
limit=${MCA_SUITE_TIMEOUT:-3600}
case $limit in
''|*[!0-9]*)
	echo "Bail out! MCA_SUITE_TIMEOUT=\"$limit\" is not a number of seconds"
	exit 99
	;;
esac
if [ "$limit" -eq 0 ] || ! command -v timeout >/dev/null 2>&1; then
	exec "$@"
fi

start=$(date +%s)
# timeout(1) signals the suite's whole process group, servers and
# clients it started included; KILL 30 s later if TERM was not enough.
timeout -k 30 "$limit" "$@"
rc=$?
end=$(date +%s)
if [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $((end - start)) -ge "$limit" ]; }; then
	# "Bail out!" makes automake's TAP driver report the suite as an
	# ERROR with this line, whatever the suite printed before.
	msg="$*: still running after $limit s (MCA_SUITE_TIMEOUT), stopped: a hang?"
	echo "Bail out! $msg"
	echo "limit.sh: $msg" >&2
	exit 99
fi
exit $rc
