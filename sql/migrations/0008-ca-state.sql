-- microca issuance ledger: the Micro CA's own certificates, as
-- microca-renew keeps them (cron/renew.c, lib/castate.h).
--
-- The intermediate a site signs with used to be named only in
-- config.json (intermediate_cert_path, intermediate_private_key_label_
-- in_pkcs11). Once microca-renew enrolls one, the state lives here, so
-- that nobody edits config.json after a renewal and an interrupted run
-- resumes instead of starting over:
--  - ca_generations: every intermediate microca-renew installed. The row
--    with the highest id whose state is 'active' is the one the EST
--    workers sign with (they compare its id with the one they loaded, and
--    reload when it grew); 'retired' rows are earlier intermediates,
--    still trusted for /simplereenroll until their notAfter (RFC 7030
--    4.2.2: a client renews with the certificate it has). No row at all:
--    config.json's intermediate is used, as before.
--  - renew_pending: one attempt in flight per managed certificate (job
--    'intermediate', 'device', 'mtls_server', 'mtls_client'): the key
--    made for it and the CSR sent, so that an EST 202 or a killed run is
--    resumed with the same key and CSR. Keys of abandoned attempts are
--    removed from the token once superseded (key_superseded).
-- Times are Unix seconds.
CREATE TABLE ca_generations (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	state		TEXT NOT NULL CHECK (state IN ('active', 'retired')),
	-- the PKCS#11 label of the private key; NULL: key_path
	key_label	TEXT CHECK (key_label IS NULL OR
			    length(key_label) BETWEEN 1 AND 128),
	key_path	TEXT CHECK (key_path IS NULL OR
			    length(key_path) BETWEEN 1 AND 4096),
	-- the intermediate first, then its issuers (PEM)
	chain_pem	TEXT NOT NULL CHECK (length(chain_pem) BETWEEN 1
			    AND 262144),
	serial		TEXT NOT NULL CHECK (length(serial) BETWEEN 1 AND 64),
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64),
	not_before	INTEGER NOT NULL,
	not_after	INTEGER NOT NULL,
	installed_at	INTEGER NOT NULL,
	CHECK ((key_label IS NULL) <> (key_path IS NULL))
);
CREATE INDEX ca_generations_state ON ca_generations (state, id);

CREATE TABLE renew_pending (
	job		TEXT PRIMARY KEY CHECK (job IN ('intermediate',
			    'device', 'mtls_server', 'mtls_client')),
	key_label	TEXT CHECK (key_label IS NULL OR
			    length(key_label) BETWEEN 1 AND 128),
	key_path	TEXT CHECK (key_path IS NULL OR
			    length(key_path) BETWEEN 1 AND 4096),
	csr_pem		TEXT NOT NULL CHECK (length(csr_pem) BETWEEN 1
			    AND 65536),
	created_at	INTEGER NOT NULL,
	-- an EST 202's Retry-After: not asked again before this time
	retry_at	INTEGER,
	attempts	INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);

-- Token keys made for attempts that were abandoned (a new attempt
-- replaced them) or for generations that were replaced: removed from the
-- token by the next run once nothing refers to them, never before.
CREATE TABLE key_superseded (
	key_label	TEXT PRIMARY KEY CHECK (length(key_label) BETWEEN 1
			    AND 128),
	since		INTEGER NOT NULL
);
