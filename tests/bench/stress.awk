# make stress: the results file (tests/bench/stress.sh) as markdown for
# doc/PERFORMANCE.md: one table row per server and phase.
function kv(line,    i, n, f, p) {
	delete v
	n = split(line, f, " ")
	for (i = 1; i <= n; i++) {
		p = index(f[i], "=")
		if (p > 0)
			v[substr(f[i], 1, p - 1)] = substr(f[i], p + 1)
	}
}
/^flood=/ {
	kv($0)
	f = v["flood"]
	if (!(f in fseen)) {
		fseen[f] = 1
		forder[++nflood] = f
	}
	if (v["phase"] == "attacker") {
		fl[f, "rate"] = sprintf("%.0f/s", (v["ok"] + v["errors"]) / \
		    v["seconds"])
		fl[f, "401"] = v["status_401"] + 0
		fl[f, "429"] = v["status_429"] + 0
		fl[f, "failures"] = v["failures"]
	} else
		fl[f, v["phase"]] = sprintf("%s / %s", v["p50_ms"], v["p95_ms"])
	if (v["phase"] == "flood")
		fl[f, "frate"] = v["rate"]
	next
}
{
	kv($0)
	key = v["server"]
	if (!(key in seen)) {
		seen[key] = 1
		order[++nserv] = key
	}
	tag = v["tag"]
	if (v["phase"] == "slow") {
		slow[key] = sprintf("%s handshaken, %s closed by the server " \
		    "(%s with an answer), %s still open at the end; " \
		    "closed after %s s (median), %s s at most", v["handshakes"],
		    v["closed"] + v["answered"], v["answered"],
		    v["dribbling_end"], v["life_p50_s"], v["life_max_s"])
		next
	}
	tries = v["ok"] + v["errors"]
	what = "alone"
	if (v["phase"] == "attack")
		what = "beside " v["conns"] " slow clients (" v["held"] \
		    " TCP connections up)"
	rate = "-"
	if (tries > 0 && v["seconds"] > 0)
		rate = sprintf("%.1f/s", v["ok"] / v["seconds"])
	pct = 0
	if (tries > 0)
		pct = 100 * v["ok"] / tries
	p50 = p95 = p99 = mx = "-"
	if (v["ok"] > 0) {
		p50 = v["p50_ms"]
		p95 = v["p95_ms"]
		p99 = v["p99_ms"]
		mx = v["max_ms"]
	}
	row[key, v["phase"]] = sprintf("| %s | %s | %s | %s/%s (%.1f%%) | " \
	    "%s | %s | %s | %s | %s |", key, what, rate, v["ok"], tries, pct,
	    p50, p95, p99, mx, v["timeout"] + v["conn"])
}
END {
	printf "Run \"%s\" on %s.\n\n", tag, day
	print "| server | /cacerts | rate | answered | p50 ms | p95 ms | " \
	    "p99 ms | max ms | timeouts/conn errors |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nserv; i++) {
		k = order[i]
		if ((k, "alone") in row)
			print row[k, "alone"]
		if ((k, "attack") in row)
			print row[k, "attack"]
	}
	print ""
	for (i = 1; i <= nserv; i++)
		if (order[i] in slow)
			printf "- %s, slow clients: %s.\n", order[i],
			    slow[order[i]]
	if (nflood == 0)
		exit
	print ""
	print "Real enrollments (lighttpd, one client, keep-alive) alone and " \
	    "during a flood of wrong secrets on one passcode (four clients, " \
	    "keep-alive):"
	print ""
	print "| failure budgets | alone: p50 / p95 ms | during the flood: " \
	    "p50 / p95 ms | enrollments/s during | flood answers | 401 " \
	    "(secret checked) | 429 (refused unchecked) | failures counted |"
	print "|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nflood; i++) {
		f = forder[i]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    f == "none" ? "none (0, 0)" : "default (10, 100, 900 s)",
		    fl[f, "alone"], fl[f, "flood"], fl[f, "frate"],
		    fl[f, "rate"], fl[f, "401"], fl[f, "429"], fl[f, "failures"]
	}
}
