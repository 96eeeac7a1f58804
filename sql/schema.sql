-- microca issuance ledger, schema version 1.
--
-- lib/ledger.c applies this file inside the same BEGIN IMMEDIATE
-- transaction that sets PRAGMA user_version = 1, so a half-created schema
-- never exists. Later changes go into sql/migrations/NNNN-name.sql; never
-- edit this file once a ledger has been created from it.
--
-- All times are ISO 8601 UTC text, 'YYYY-MM-DDTHH:MM:SSZ': fixed width
-- and zero padded, so that comparing the strings compares the times and
-- an auditor can read them without date functions. The CHECKs keep any
-- other spelling out, and impossible dates ('+0 seconds' makes strftime
-- normalise them), because one odd value would silently break every
-- range query below.

CREATE TABLE certificates (
	id			INTEGER PRIMARY KEY,
	-- Uppercase hex, as certinfo prints it: one spelling per serial,
	-- or UNIQUE would let the same certificate in twice.
	serial			TEXT NOT NULL UNIQUE
				CHECK (serial <> '' AND
				    serial NOT GLOB '*[^0-9A-F]*'),
	subject			TEXT NOT NULL,		-- RFC 2253
	san			TEXT,
	issuer			TEXT NOT NULL,		-- RFC 2253
	not_before		TEXT NOT NULL CHECK (not_before IS
				    strftime('%Y-%m-%dT%H:%M:%SZ', not_before,
				    '+0 seconds')),
	not_after		TEXT NOT NULL CHECK (not_after IS
				    strftime('%Y-%m-%dT%H:%M:%SZ', not_after,
				    '+0 seconds')),
	-- The EST label (end_point_name); NULL for the unlabelled path.
	label			TEXT,
	operation		TEXT NOT NULL CHECK (operation IN
				    ('enroll', 'reenroll', 'serverkeygen')),
	-- Who asked: the TLS client certificate, NULL when the client
	-- authenticated otherwise. Kept apart from subject because a
	-- registration authority may enroll on behalf of a device.
	requester_subject	TEXT,
	requester_serial	TEXT,
	requester_issuer	TEXT,
	remote_addr		TEXT,
	-- Thumbprints in uppercase hex, the form Azure IoT Hub shows and
	-- accepts, so that an operator can match them by copy and paste.
	sha1			TEXT NOT NULL
				CHECK (length(sha1) = 40 AND
				    sha1 NOT GLOB '*[^0-9A-F]*'),
	sha256			TEXT NOT NULL
				CHECK (length(sha256) = 64 AND
				    sha256 NOT GLOB '*[^0-9A-F]*'),
	key_type		TEXT,
	-- 'server' means the private key once existed outside the device
	-- (serverkeygen); auditors need to tell those certificates apart.
	key_origin		TEXT NOT NULL CHECK (key_origin IN
				    ('client', 'server')),
	pem			TEXT NOT NULL,
	-- A reenroll row names the certificate it renews. This is how
	-- expiring_soon knows a certificate needs no more attention and how
	-- a revocation can follow a device's chain of renewals.
	replaces_serial		TEXT REFERENCES certificates(serial),
	issued_at		TEXT NOT NULL
				DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	-- Work queue for the Azure IoT Hub sync job: the job picks up
	-- 'pending' rows, so the EST request never waits on Azure.
	azure_sync		TEXT NOT NULL DEFAULT 'none'
				CHECK (azure_sync IN
				    ('none', 'pending', 'synced', 'failed'))
);

-- Lookups by serial use the UNIQUE index. These serve the views and the
-- cron jobs: expiry reports, per-label audits, "what happened today",
-- and the renewal chain (also needed by the foreign key on delete).
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_label ON certificates (label, issued_at);
CREATE INDEX certificates_issued_at ON certificates (issued_at);
CREATE INDEX certificates_replaces_serial ON certificates (replaces_serial);
-- Partial: the sync job scans for pending rows, which are few.
CREATE INDEX certificates_azure_pending ON certificates (azure_sync)
    WHERE azure_sync = 'pending';

-- Refused enrollment attempts. Unconstrained beyond NOT NULL on purpose:
-- a refusal is logged about a request that was already wrong, and the
-- record of it must not be lost to a second CHECK failure.
CREATE TABLE refusals (
	id			INTEGER PRIMARY KEY,
	at			TEXT NOT NULL
				DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	label			TEXT,
	operation		TEXT,
	requester_subject	TEXT,
	requester_serial	TEXT,
	requester_issuer	TEXT,
	remote_addr		TEXT,
	status			INTEGER NOT NULL,	-- HTTP status
	reason			TEXT
);

CREATE INDEX refusals_at ON refusals (at);

-- Views for auditors at the sqlite3 prompt. 'now' is UTC in SQLite,
-- like every stored time, so "today" is the UTC day.

CREATE VIEW issued_today AS
SELECT id, serial, label, subject, operation, key_origin,
    requester_subject, remote_addr, issued_at
FROM certificates
WHERE issued_at >= strftime('%Y-%m-%dT00:00:00Z', 'now')
ORDER BY issued_at, id;

CREATE VIEW issued_by_label AS
SELECT label, count(*) AS issued, max(issued_at) AS last_issued
FROM certificates
GROUP BY label
ORDER BY label;

-- Certificates that run out within 30 days and have not been renewed
-- yet: the devices to chase. A renewed certificate has a newer row whose
-- replaces_serial names it, and drops out of the list.
CREATE VIEW expiring_soon AS
SELECT c.id, c.serial, c.label, c.subject, c.issuer, c.not_after,
    c.issued_at
FROM certificates AS c
WHERE c.not_after > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  AND c.not_after <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+30 days')
  AND NOT EXISTS (SELECT 1 FROM certificates AS n
      WHERE n.replaces_serial = c.serial)
ORDER BY c.not_after, c.id;
