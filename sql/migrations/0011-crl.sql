-- microca issuance ledger: the CRLs microca-crl writes (lib/crl.h,
-- microca-crl(8)). Depends on 0010-revocations.sql.
--
-- crl_state holds, per CA key (issuer_key_id: the CA certificate's
-- subjectKeyIdentifier in uppercase hex, the keyIdentifier of the CRL's
-- authorityKeyIdentifier, RFC 5280 5.2.1), the last CRL written for it:
--  - crl_number: its cRLNumber (RFC 5280 5.2.3). The next CRL takes the
--    next number in the same IMMEDIATE transaction that writes its files
--    and this row, so a number is never handed out twice; a trigger
--    refuses to lower it.
--  - this_update, next_update: its thisUpdate and nextUpdate (RFC 5280
--    5.1.2.4, 5.1.2.5), Unix seconds. microca-crl makes a new one once
--    half of that span has passed.
--  - last_event_id: the highest revocations.id of a certificate of this
--    issuer name that the CRL took into account; a higher one means a
--    revocation (or a release from hold) since, and a new CRL.
--  - name: the files' name in crl_dir (<name>.crl, <name>.crl.pem);
--    issuer: the CA's subject (RFC 2253), for auditors; entries: how
--    many certificates it lists; sha256: of its DER, uppercase hex.
CREATE TABLE crl_state (
	issuer_key_id	TEXT PRIMARY KEY CHECK (length(issuer_key_id)
			    BETWEEN 2 AND 128 AND
			    issuer_key_id NOT GLOB '*[^0-9A-F]*'),
	issuer		TEXT NOT NULL,
	name		TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	crl_number	INTEGER NOT NULL CHECK (typeof(crl_number) =
			    'integer' AND crl_number >= 1),
	this_update	INTEGER NOT NULL CHECK (typeof(this_update) =
			    'integer'),
	next_update	INTEGER NOT NULL CHECK (typeof(next_update) =
			    'integer' AND next_update > this_update),
	last_event_id	INTEGER NOT NULL DEFAULT 0 CHECK (last_event_id >= 0),
	entries		INTEGER NOT NULL CHECK (entries >= 0),
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64 AND
			    sha256 NOT GLOB '*[^0-9A-F]*')
);

-- RFC 5280 5.2.3: cRLNumber is monotonically increasing per issuer.
CREATE TRIGGER crl_state_number BEFORE UPDATE OF crl_number ON crl_state
WHEN NEW.crl_number <= OLD.crl_number
BEGIN
	SELECT RAISE(ABORT, 'crl_state: the CRL number must increase');
END;

-- For auditors at the sqlite3 prompt: times in ISO 8601 UTC.
CREATE VIEW crls AS
SELECT name, issuer, issuer_key_id, crl_number,
    strftime('%Y-%m-%dT%H:%M:%SZ', this_update, 'unixepoch') AS this_update,
    strftime('%Y-%m-%dT%H:%M:%SZ', next_update, 'unixepoch') AS next_update,
    entries, last_event_id
FROM crl_state
ORDER BY name;
