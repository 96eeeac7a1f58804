# report.awk: turns bench.sh's results (one measurement per line, as
# key=value pairs; values with spaces in double quotes) into the
# markdown that goes into doc/PERFORMANCE.md.

# Splits line s into kv[]: kv["rate"] = "1234", quotes removed.
function parse(s, kv,    k, v, i) {
	split("", kv)
	while (s != "") {
		sub(/^ +/, "", s)
		if ((i = index(s, "=")) == 0)
			break
		k = substr(s, 1, i - 1)
		s = substr(s, i + 1)
		if (substr(s, 1, 1) == "\"") {
			s = substr(s, 2)
			i = index(s, "\"")
			v = substr(s, 1, i - 1)
			s = substr(s, i + 1)
		} else {
			i = index(s, " ")
			if (i == 0) { v = s; s = "" }
			else { v = substr(s, 1, i - 1); s = substr(s, i + 1) }
		}
		sub(/^[a-z]+ /, "", k)	# the record's first word
		sub(/ +$/, "", v)
		kv[k] = v
	}
}

function maxof(list,    a, n, i, m) {
	n = split(list, a, " ")
	m = 0
	for (i = 1; i <= n; i++)
		if (a[i] + 0 > m)
			m = a[i] + 0
	return m
}

# Largest growth between two lists of per-worker values.
function growth(before, after,    a, b, n, i, g, m) {
	n = split(before, a, " ")
	split(after, b, " ")
	m = -1e9
	for (i = 1; i <= n; i++) {
		g = b[i] - a[i]
		if (g > m)
			m = g
	}
	return m
}

function verdict(ok) { return ok ? "met" : "**missed**" }

{
	parse($0, kv)
	if ($1 == "machine") {
		machine = sprintf("%s CPUs (%s), %.1f GiB, %s, kernel %s, %s, " \
		    "%s microca-est workers", kv["cpus"], kv["model"],
		    kv["mem_kib"] / 1048576, kv["os"], kv["kernel"],
		    kv["openssl"], kv["workers"])
	} else if ($1 == "rss") {
		rss_start = kv["start_kib"]; rss_warm = kv["warm_kib"]
		rss_after = kv["after_kib"]; rss_n = kv["enrollments"]
		rss_priv = kv["worker_private_kib"]
		rss_pss = kv["worker_pss_kib"]; rss_crypto = kv["worker_libcrypto_kib"]
	} else if ($1 == "ledger") {
		ledger_rows = kv["rows"]; ledger_bytes = kv["bytes"]
	} else if ($1 == "disc") {
		for (k in kv)
			disc[k] = kv[k]
	} else if ($1 == "flood") {
		for (k in kv)
			flood[k] = kv[k]
	} else if ("limit" in kv) {
		l = kv["limit"]
		if (l == "softhsm_sign")
			l = l "_" kv["procs"]
		else if (l == "cacerts")
			l = l "_" kv["mode"]
		limit[l] = kv["rate"] + 0
	} else if ("run" in kv) {
		nrun++
		for (k in kv)
			run[nrun, k] = kv[k]
		key = kv["run"] SUBSEP kv["key"] SUBSEP kv["mode"] SUBSEP kv["clients"]
		# + 0: compare as numbers, not as strings
		rate[key] = kv["rate"] + 0; cpu[key] = kv["cpu_ms"] + 0
	}
}

# part=disc: the discovery scan alone (bench.sh writes it between the
# "disc:begin" and "disc:end" marks).
function disc_report(    fr, rr) {
	print ""
	if (!("files" in disc)) {
		print "Not measured."
		return
	}
	fr = disc["first_rate"] + 0
	rr = disc["rescan_rate"] + 0
	printf "Measured by `make bench` (`BENCH_ONLY=disc make bench` runs " \
	    "only this) with %s CPUs; load average (1, 5, 15 min) %s " \
	    "at the end of the run: the machine was %s. Median of three " \
	    "runs of each, warm page cache.\n", disc["cpus"], disc["load"],
	    (disc["load"] + 0 > disc["cpus"] + 0.5) ? "shared, the wall " \
	    "times are what was left of it" : "otherwise idle"
	print ""
	print "| scan | files | wall s | files/s | CPU s | files per CPU s | target | |"
	print "|---|---:|---:|---:|---:|---:|---|---|"
	printf "| first scan (every certificate file opened, read, parsed) | %d | %.3f | **%d** | %.3f | %d | ≥ 20,000 files/s | %s |\n",
	    disc["files"], disc["first_s"], fr, disc["first_cpu_s"],
	    disc["files"] / disc["first_cpu_s"], verdict(fr >= 20000)
	printf "| rescan, unchanged (`known()` true: nothing opened) | %d | %.3f | **%d** | %.3f | %d | ≥ 5× the first | %.1f× %s |\n",
	    disc["files"], disc["rescan_s"], rr, disc["rescan_cpu_s"],
	    disc["files"] / disc["rescan_cpu_s"], disc["ratio"],
	    verdict(disc["ratio"] + 0 >= 5)
	print ""
	printf "The first scan parsed %d files and reported %d " \
	    "certificates and %d SKIPs (the corrupt PEM files of the mix).\n",
	    disc["parsed"], disc["certs"], disc["skipped"]
}

END {
	if (part == "disc") {
		disc_report()
		exit
	}
	print ""
	print "Measured by `make bench` on " machine "."
	print ""
	print "### Limits, measured in the same run"
	print ""
	print "| limit | per second |"
	print "|---|---:|"
	printf "| `openssl speed ecdsap256` sign (one core, no token) | %d |\n", limit["openssl_ecdsap256_sign"]
	printf "| SoftHSMv2 EC P-256 sign through libp11, 1 process | %d |\n", limit["softhsm_sign_1"]
	printf "| SoftHSMv2 EC P-256 sign through libp11, 2 processes | %d |\n", limit["softhsm_sign_2"]
	printf "| `fdatasync` on the ledger's disk | %d |\n", limit["fdatasync"]
	printf "| SQLite single-row commits, WAL, synchronous=FULL | %d |\n", limit["sqlite_commit"]
	printf "| `/cacerts`, keep-alive, c=16 | %d |\n", limit["cacerts_keepalive"]
	printf "| `/cacerts`, fresh TLS connection each, c=16 | %d |\n", limit["cacerts_fresh"]
	print ""
	print "### Enrollments"
	print ""
	print "Every response checked by the load generator (PKCS#7 parsed, the " \
	    "certificate's key is the CSR's). Latency in ms; server CPU is " \
	    "lighttpd and the workers, from /proc, per enrollment. Where three " \
	    "rates follow, the run was made three times and the row is the " \
	    "median one."
	print ""
	print "| ledger | CSR key | connection | clients | enrollments | per second | p50 | p95 | p99 | server CPU ms | errors |"
	print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nrun; i++) {
		tag = run[i, "run"]
		if (tag == "rss" || tag ~ /^flood_/)
			continue
		if (tag == "full")
			what = sprintf("%d rows", ledger_rows)
		else if (tag == "nosync")
			what = sprintf("%d rows, issued_certs_synchronous OFF", ledger_rows)
		else
			what = "empty"
		# three runs: the median, then all three
		r = sprintf("**%d**", run[i, "rate"])
		if ((i, "rates") in run)
			r = r " (" run[i, "rates"] ")"
		printf "| %s | %s | %s | %d | %d | %s | %.1f | %.1f | %.1f | %.2f | %d |\n",
		    what,
		    run[i, "key"] == "ec" ? "EC P-256" : "RSA-2048",
		    run[i, "mode"] == "fresh" ? "fresh TLS" : "keep-alive",
		    run[i, "clients"], run[i, "ok"], r,
		    run[i, "p50_ms"], run[i, "p95_ms"], run[i, "p99_ms"],
		    run[i, "cpu_ms"], run[i, "errors"]
	}
	ka = rate["empty", "ec", "keepalive", 16]
	fr = rate["empty", "ec", "fresh", 16]
	print ""
	print "### Against the targets (EC P-256, c=16)"
	print ""
	print "| target | measured | |"
	print "|---|---|---|"
	printf "| keep-alive ≥ 2,000 enrollments/s | %d/s | %s |\n", ka, verdict(ka >= 2000)
	printf "| keep-alive ≥ 60%% of the fdatasync bound | %.0f%% of %d | %s |\n",
	    100 * ka / limit["fdatasync"], limit["fdatasync"], verdict(ka >= 0.6 * limit["fdatasync"])
	c = cpu["empty", "ec", "keepalive", 16]
	printf "| server CPU ≤ 0.5 ms per enrollment (keep-alive) | %.2f ms | %s |\n", c, verdict(c <= 0.5)
	printf "| fresh TLS connection each ≥ 800 enrollments/s | %d/s | %s |\n", fr, verdict(fr >= 800)
	m = maxof(rss_after)
	printf "| worker RSS ≤ 8 MiB | %.1f MiB (largest of %s KiB; of which libcrypto %d KiB; private %s KiB; PSS %s KiB) | %s |\n",
	    m / 1024, rss_after, rss_crypto, rss_priv, rss_pss, verdict(m <= 8192)
	g = growth(rss_warm, rss_after)
	printf "| no RSS growth over %d enrollments | %+d KiB (warm %s → %s KiB; at start %s) | %s |\n",
	    rss_n, g, rss_warm, rss_after, rss_start, verdict(g <= 256)
	f = rate["full", "ec", "keepalive", 16]
	printf "| %d-row ledger ≥ 90%% of empty, keep-alive | %d/s = %.0f%% | %s |\n",
	    ledger_rows, f, 100 * f / ka, verdict(f >= 0.9 * ka)
	f = rate["full", "ec", "fresh", 16]
	printf "| %d-row ledger ≥ 90%% of empty, fresh TLS | %d/s = %.0f%% | %s |\n",
	    ledger_rows, f, 100 * f / fr, verdict(f >= 0.9 * fr)
	printf "\nWithout the fsync of each IssuedCerts copy (`issued_certs_synchronous` \"OFF\", %d-row ledger): keep-alive %d/s at %.2f ms of server CPU, fresh TLS %d/s.\n",
	    ledger_rows, rate["nosync", "ec", "keepalive", 16],
	    cpu["nosync", "ec", "keepalive", 16], rate["nosync", "ec", "fresh", 16]
	if ("requests" in flood) {
		print ""
		print "### Refusals under a flood"
		print ""
		printf "%d anonymous enrollments (no certificate, no passcode: " \
		    "401 each, a refusal for the ledger), from 4 keep-alive " \
		    "clients paced at %d/s, took %.0f s (%d answered 401); " \
		    "meanwhile one client enrolled (EC P-256, keep-alive, c=1), " \
		    "and the same run alone before it. Ledger: %d rows, " \
		    "issued_certs_synchronous OFF.\n", flood["requests"],
		    flood["paced"], flood["seconds"], flood["status_401"],
		    ledger_rows
		print ""
		print "| target | measured | |"
		print "|---|---|---|"
		added = flood["rows_after"] - flood["rows_before"]
		counted = flood["counted_after"] - flood["counted_before"]
		ok = (added <= flood["bound"] && added + counted == flood["requests"])
		printf "| `refusals` stays bounded: at most %d rows a minute | " \
		    "%d → %d rows (+%d, bound %d); %d more counted in " \
		    "`refusal_counts` | %s |\n", flood["cap"],
		    flood["rows_before"], flood["rows_after"], added,
		    flood["bound"], counted, verdict(ok)
		a = flood["enroll_alone"]; d = flood["enroll_during"]
		pct = 0
		if (a > 0)
			pct = 100 * d / a
		note = ""
		if (!flood["overlap"])
			note = " (the flood ended first)"
		printf "| enrollments during the flood ≥ 90%% of alone | " \
		    "%.0f/s of %.0f/s = %.0f%%%s | %s |\n", d, a, pct, note,
		    verdict(d >= 0.9 * a)
	}
	print ""
	print "### Ratios to the limits (keep-alive and fresh TLS, c=16)"
	print ""
	print "| limit | keep-alive | fresh TLS |"
	print "|---|---:|---:|"
	printf "| SoftHSMv2 sign, 2 processes | %.0f%% | %.0f%% |\n",
	    100 * ka / limit["softhsm_sign_2"], 100 * fr / limit["softhsm_sign_2"]
	printf "| fdatasync | %.0f%% | %.0f%% |\n",
	    100 * ka / limit["fdatasync"], 100 * fr / limit["fdatasync"]
	printf "| SQLite commits | %.0f%% | %.0f%% |\n",
	    100 * ka / limit["sqlite_commit"], 100 * fr / limit["sqlite_commit"]
	printf "| `/cacerts` in the same mode | %.0f%% | %.0f%% |\n",
	    100 * ka / limit["cacerts_keepalive"], 100 * fr / limit["cacerts_fresh"]
	print ""
	printf "Ledger with %d rows: %.0f MiB.\n", ledger_rows, ledger_bytes / 1048576
}
