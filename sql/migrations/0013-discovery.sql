-- microca issuance ledger: the certificate inventory of discovery
-- (issue 15; lib/ledger_discover.c, microca-discover(8)).
--
-- microca-discover finds the certificates of this machine, in files
-- under scan_paths and on the TLS endpoints of scan_endpoints, and keeps
-- them here: one row per certificate and place (location, idx), where
-- location is the file's path or "host:port" and idx the certificate's
-- 0-based position in the file or in the chain the endpoint presented.
-- Times are ISO 8601 UTC text ("YYYY-MM-DDTHH:MM:SSZ"), as in
-- certificates.
--  - first_seen: when this certificate was first found at this place
--    (a different certificate at the same place starts again);
--  - last_seen: the last run that found it there;
--  - gone_since: NULL while it is there; set by the first complete run
--    that scanned its place (under one of that run's scan_paths, or one
--    of its scan_endpoints that answered) and did not find it;
--  - seen_run: the discovery_runs.id that last found it (what the gone
--    rule compares, so that two runs within one second do not mix);
--  - issued_by_microca: 1 when the ledger's certificates hold its serial
--    with the same issuer;
--  - uploaded_sha256: the certificate last uploaded to AppViewX for this
--    place; a present row whose sha256 differs (new: NULL; changed:
--    another) is due for upload; uploaded_at: when.
CREATE TABLE discovery_runs (
	id		INTEGER PRIMARY KEY,
	started_at	TEXT NOT NULL,
	finished_at	TEXT,		-- NULL: stopped before its end
	files		INTEGER NOT NULL DEFAULT 0,
	certs		INTEGER NOT NULL DEFAULT 0,
	new_certs	INTEGER NOT NULL DEFAULT 0,
	changed		INTEGER NOT NULL DEFAULT 0,
	gone		INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE discovered_certs (
	id		INTEGER PRIMARY KEY,
	location	TEXT NOT NULL CHECK (length(location) BETWEEN 1
			    AND 4096),
	idx		INTEGER NOT NULL CHECK (typeof(idx) = 'integer' AND
			    idx >= 0),
	endpoint	INTEGER NOT NULL CHECK (endpoint IN (0, 1)),
	subject		TEXT NOT NULL,
	issuer		TEXT NOT NULL,
	serial		TEXT NOT NULL CHECK (serial NOT GLOB '*[^0-9A-F]*'),
	not_before	TEXT NOT NULL,
	not_after	TEXT NOT NULL,
	sans		TEXT NOT NULL,
	key_type	TEXT NOT NULL,
	key_bits	INTEGER NOT NULL CHECK (typeof(key_bits) = 'integer'),
	sig_alg		TEXT NOT NULL,
	is_ca		INTEGER NOT NULL CHECK (is_ca IN (0, 1)),
	sha1		TEXT NOT NULL CHECK (length(sha1) = 40),
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64),
	der		BLOB NOT NULL CHECK (length(der) > 0),
	first_seen	TEXT NOT NULL,
	last_seen	TEXT NOT NULL,
	gone_since	TEXT,
	seen_run	INTEGER NOT NULL REFERENCES discovery_runs(id),
	issued_by_microca INTEGER NOT NULL CHECK (issued_by_microca IN
			    (0, 1)),
	uploaded_sha256	TEXT CHECK (uploaded_sha256 IS NULL OR
			    length(uploaded_sha256) = 64),
	uploaded_at	TEXT,
	UNIQUE (location, idx)
);
-- The upload's work list without a scan: present rows not uploaded as
-- they are, in id order.
CREATE INDEX discovered_certs_due ON discovered_certs (id)
    WHERE gone_since IS NULL AND
    (uploaded_sha256 IS NULL OR uploaded_sha256 <> sha256);
CREATE INDEX discovered_certs_not_after ON discovered_certs (not_after)
    WHERE gone_since IS NULL;

-- The rescan cache: each file parsed, with what identified its content
-- then (size, modification time in nanoseconds, inode). A file whose
-- three are unchanged is not opened again; its certificates' rows are
-- only marked seen. A file no longer found under a scanned root loses
-- its row.
CREATE TABLE discovered_files (
	path		TEXT PRIMARY KEY CHECK (length(path) BETWEEN 1 AND 4096),
	size		INTEGER NOT NULL CHECK (typeof(size) = 'integer'),
	mtime_ns	INTEGER NOT NULL CHECK (typeof(mtime_ns) = 'integer'),
	ino		INTEGER NOT NULL CHECK (typeof(ino) = 'integer'),
	ncerts		INTEGER NOT NULL CHECK (typeof(ncerts) = 'integer' AND
			    ncerts >= 0),
	last_seen	TEXT NOT NULL,
	seen_run	INTEGER NOT NULL
) WITHOUT ROWID;

-- For auditors at the sqlite3 prompt: what is here, soonest expiry
-- first, with the whole days left (negative: expired).
CREATE VIEW discovered_expiring AS
SELECT location, idx, subject, issuer, serial, not_after,
    CAST(floor(julianday(not_after) - julianday('now')) AS INTEGER)
	AS days_left,
    sans, key_type, key_bits, is_ca, issued_by_microca, sha256, last_seen
FROM discovered_certs
WHERE gone_since IS NULL
ORDER BY not_after, location, idx;

-- Per issuer: how many certificates are here, how many expired and
-- how many expire within 30 days.
CREATE VIEW discovered_by_issuer AS
SELECT issuer, count(*) AS certs,
    sum(not_after <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS expired,
    sum(not_after > strftime('%Y-%m-%dT%H:%M:%SZ', 'now') AND
	not_after <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+30 days'))
	AS expiring_30d,
    sum(issued_by_microca) AS by_microca
FROM discovered_certs
WHERE gone_since IS NULL
GROUP BY issuer
ORDER BY certs DESC, issuer;
