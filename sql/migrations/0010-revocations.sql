-- microca issuance ledger: certificate revocation (lib/revoke.h,
-- microca-admin(8) "revoke", "unrevoke", "list"). Depends only on
-- schema.sql.
--
-- revocations is an event log, appended to and never changed: each
-- "microca-admin revoke" or "unrevoke" adds one row per certificate, and
-- the state of a certificate is its latest row (highest id). Keeping the
-- events, not a flag on certificates, tells an auditor who put a
-- certificate on hold and who released it, and lets a tamper-evident
-- chain over the rows be added later as extra columns.
--  - reason: the RFC 5280 5.3.1 CRLReason name of a 'revoke' (the CRL
--    writes its code, lib/revoke.c holds the table); NULL for an
--    'unrevoke', which RFC 5280 5.3.1 allows only from certificateHold.
--    removeFromCRL (8) is not a reason one revokes with: a delta CRL
--    derives it from an 'unrevoke'; aACompromise (10) is for attribute
--    certificates, which microca does not issue.
--  - revoked_at: when the event was written (the CRL's revocationDate,
--    RFC 5280 5.1.2.6); ISO 8601 UTC like every time in schema.sql.
--  - invalidity_date: RFC 5280 5.3.2, when the key is known or suspected
--    to have been compromised; optional, only on a 'revoke'.
--  - revoked_by: who wrote the event (the OS user running microca-admin,
--    and what its --by said), one line.
CREATE TABLE revocations (
	id		INTEGER PRIMARY KEY,
	serial		TEXT NOT NULL REFERENCES certificates(serial),
	action		TEXT NOT NULL CHECK (action IN ('revoke', 'unrevoke')),
	reason		TEXT CHECK (reason IN ('unspecified',
			    'keyCompromise', 'cACompromise',
			    'affiliationChanged', 'superseded',
			    'cessationOfOperation', 'certificateHold',
			    'privilegeWithdrawn')),
	revoked_at	TEXT NOT NULL CHECK (revoked_at IS
			    strftime('%Y-%m-%dT%H:%M:%SZ', revoked_at,
			    '+0 seconds')),
	invalidity_date	TEXT CHECK (invalidity_date IS NULL OR
			    invalidity_date IS strftime('%Y-%m-%dT%H:%M:%SZ',
			    invalidity_date, '+0 seconds')),
	revoked_by	TEXT NOT NULL CHECK (length(revoked_by) BETWEEN 1
			    AND 256 AND revoked_by NOT GLOB '*[' || char(1) ||
			    '-' || char(31) || char(127) || ']*'),
	-- A revoke has a reason, an unrevoke none and no invalidity date.
	CHECK ((action = 'revoke') = (reason IS NOT NULL)),
	CHECK (action = 'revoke' OR invalidity_date IS NULL)
);

-- The state of a serial is its latest event: (serial, id) finds it
-- without a scan, and serves the foreign key.
CREATE INDEX revocations_serial ON revocations (serial, id);

-- Append-only, as far as SQL reaches: the log is the evidence. (The
-- file itself is the operator's; a chain of hashes makes edits made
-- around these triggers visible.)
CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations
BEGIN
	SELECT RAISE(ABORT, 'revocations is append-only');
END;
CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations
BEGIN
	SELECT RAISE(ABORT, 'revocations is append-only');
END;

-- The state machine, also here so that no writer but lib/revoke.c can
-- break it: a revoked certificate is not revoked again, except that a
-- certificateHold may be made final with another reason; and only a
-- hold is lifted (RFC 5280 5.3.1). Only 'revoke' rows have a reason,
-- so the latest reason is certificateHold exactly when the certificate
-- is on hold.
CREATE TRIGGER revocations_state BEFORE INSERT ON revocations
WHEN (NEW.action = 'revoke' AND
	(SELECT action FROM revocations WHERE serial = NEW.serial
	    ORDER BY id DESC LIMIT 1) IS 'revoke' AND
	((SELECT reason FROM revocations WHERE serial = NEW.serial
	    ORDER BY id DESC LIMIT 1) IS NOT 'certificateHold' OR
	    NEW.reason = 'certificateHold'))
  OR (NEW.action = 'unrevoke' AND
	(SELECT reason FROM revocations WHERE serial = NEW.serial
	    ORDER BY id DESC LIMIT 1) IS NOT 'certificateHold')
BEGIN
	SELECT RAISE(ABORT, 'revocations: not a valid state change');
END;

-- A revoked certificate (on hold too) obtains nothing more: no renewal
-- of it, and no certificate requested with it (an RA's, a device's own
-- re-enrollment through /simpleenroll). lib/ledger.c judges renewals
-- under the write lock and cgi/ answers 403; this refuses the INSERT
-- itself, whatever raced with what. A requester's serial counts only
-- with the issuer this CA gave it: a bootstrap certificate of another
-- CA may have the same serial.
CREATE TRIGGER certificates_revoked BEFORE INSERT ON certificates
WHEN (SELECT e.reason FROM revocations AS e
	WHERE e.serial = NEW.replaces_serial
	ORDER BY e.id DESC LIMIT 1) IS NOT NULL
  OR (SELECT e.reason FROM revocations AS e
	JOIN certificates AS q ON q.serial = e.serial
	WHERE e.serial = NEW.requester_serial
	  AND q.issuer IS NEW.requester_issuer
	ORDER BY e.id DESC LIMIT 1) IS NOT NULL
BEGIN
	SELECT RAISE(ABORT, 'certificates: a revoked certificate obtains nothing');
END;

-- What is revoked now: each serial whose latest event is a 'revoke',
-- with what a CRL needs of its certificate (issuer: one CRL per CA).
CREATE VIEW revoked_now AS
SELECT r.serial, r.reason, r.revoked_at, r.invalidity_date,
    c.issuer, c.not_after, c.label
FROM revocations AS r
JOIN certificates AS c ON c.serial = r.serial
WHERE r.action = 'revoke'
  AND r.id = (SELECT max(l.id) FROM revocations AS l
      WHERE l.serial = r.serial)
ORDER BY r.id;
