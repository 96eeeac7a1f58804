-- microca issuance ledger, schema version 2: enrollment passcodes.
--
-- A device with no bootstrap certificate enrolls with a passcode sent
-- over HTTP Basic (lib/passcode.h). The ledger keeps only a salted scrypt
-- hash of each secret; the ID is public and is the key the server uses
-- to fetch the one row it checks.
--
-- A use is spent in the same transaction that records the certificate
-- (lib/ledger.c: UPDATE ... WHERE uses_left > 0 AND not revoked AND not
-- expired must change exactly one row, or nothing is committed), so no
-- passcode issues more certificates than it allows, whatever number of
-- workers race for it.

CREATE TABLE passcodes (
	-- Crockford base32, upper case, as lib/passcode.c writes it.
	id			TEXT PRIMARY KEY
				CHECK (length(id) = 8 AND
				    id NOT GLOB '*[^0-9ABCDEFGHJKMNPQRSTVWXYZ]*'),
	-- The EST label (end_point_name) it enrolls on, and only that one.
	label			TEXT NOT NULL CHECK (label <> ''),
	-- "$scrypt$ln=..,r=..,p=..$salt$hash": parameters kept with the
	-- hash, so that the cost can be raised for new rows later.
	hash			TEXT NOT NULL CHECK (hash GLOB '$*$*$*$*'),
	uses_total		INTEGER NOT NULL
				CHECK (typeof(uses_total) = 'integer' AND
				    uses_total >= 1),
	uses_left		INTEGER NOT NULL
				CHECK (typeof(uses_left) = 'integer' AND
				    uses_left >= 0 AND uses_left <= uses_total),
	expires_at		TEXT NOT NULL CHECK (expires_at IS
				    strftime('%Y-%m-%dT%H:%M:%SZ', expires_at,
				    '+0 seconds')),
	created_at		TEXT NOT NULL
				DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	-- The Unix user who ran microca-admin.
	created_by		TEXT,
	comment			TEXT,
	revoked_at		TEXT CHECK (revoked_at IS NULL OR revoked_at IS
				    strftime('%Y-%m-%dT%H:%M:%SZ', revoked_at,
				    '+0 seconds')),
	last_used_at		TEXT
);

CREATE INDEX passcodes_label ON passcodes (label, created_at);

-- How the requester of a certificate authenticated. NULL on rows from
-- schema version 1 (all of them by client certificate).
ALTER TABLE certificates ADD COLUMN auth_method TEXT
    CHECK (auth_method IN ('certificate', 'passcode', 'remote_user'));
-- REMOTE_USER, when the web server did HTTP Basic itself.
ALTER TABLE certificates ADD COLUMN requester_user TEXT;
-- The passcode that paid for this certificate.
ALTER TABLE certificates ADD COLUMN passcode_id TEXT
    REFERENCES passcodes(id);
CREATE INDEX certificates_passcode_id ON certificates (passcode_id)
    WHERE passcode_id IS NOT NULL;

-- Refusals name the passcode tried (no foreign key: a refused ID may not
-- exist) and REMOTE_USER; never the secret.
ALTER TABLE refusals ADD COLUMN requester_user TEXT;
ALTER TABLE refusals ADD COLUMN passcode_id TEXT;

-- For auditors and microca-admin: each passcode with its state now and
-- the number of certificates it paid for. The first state that applies
-- wins: revoked, used, expired, active.
CREATE VIEW passcode_status AS
SELECT p.id, p.label, p.uses_left, p.uses_total, p.expires_at,
    CASE
	WHEN p.revoked_at IS NOT NULL THEN 'revoked'
	WHEN p.uses_left = 0 THEN 'used'
	WHEN p.expires_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
	    THEN 'expired'
	ELSE 'active'
    END AS state,
    p.created_at, p.created_by, p.comment, p.revoked_at, p.last_used_at,
    (SELECT count(*) FROM certificates AS c WHERE c.passcode_id = p.id)
	AS issued
FROM passcodes AS p;
