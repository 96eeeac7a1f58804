-- microca issuance ledger: the Azure IoT Hub sync queue (lib/ledger.h,
-- lib/ledger_azure.c; microca-azsync(8), microca-admin(8) "azure").
--
-- The queue itself is certificates.azure_sync (schema.sql): an issuance
-- on a label with is_device_cert true writes 'pending' in the statement
-- that inserts the row, so the EST request never waits on Azure and no
-- device certificate is issued without its queue entry. microca-azsync
-- takes the pending rows in issue order (certificates.id) and marks a
-- row 'synced' only once the hub (or the AppViewX workflow) confirmed
-- it, 'failed' when the hub refused it for good; "microca-admin azure
-- retry" puts failed rows back to 'pending'.
--
-- azure_sync_state keeps, per queued certificate, what the sync job
-- learned: one row made by the first attempt (a pending certificate
-- without one was never tried). Times are Unix seconds.
--  - attempts: tries that did not sync (a retry keeps the count);
--  - next_attempt: not tried again before this time (0: at once), from
--    the job's back-off or the hub's Retry-After;
--  - last_status: the last HTTP status (NULL: none, e.g. no connection);
--  - last_error: why the last try did not sync, one line, never a secret;
--  - etag: the device's etag after the hub confirmed the update;
--  - request_id: the AppViewX workflow request in flight, polled again
--    by the next run instead of submitting the workflow twice;
--  - synced_at: when the hub confirmed it.
CREATE TABLE azure_sync_state (
	cert_id		INTEGER PRIMARY KEY REFERENCES certificates(id),
	attempts	INTEGER NOT NULL DEFAULT 0 CHECK (typeof(attempts) =
			    'integer' AND attempts >= 0),
	next_attempt	INTEGER NOT NULL DEFAULT 0 CHECK (typeof(next_attempt)
			    = 'integer' AND next_attempt >= 0),
	last_status	INTEGER CHECK (last_status IS NULL OR
			    last_status BETWEEN 100 AND 599),
	last_error	TEXT CHECK (last_error IS NULL OR
			    (length(last_error) BETWEEN 1 AND 512 AND
			    last_error NOT GLOB '*[' || char(1) || '-' ||
			    char(31) || char(127) || ']*')),
	etag		TEXT CHECK (etag IS NULL OR
			    length(etag) BETWEEN 1 AND 127),
	request_id	TEXT CHECK (request_id IS NULL OR
			    length(request_id) BETWEEN 1 AND 127),
	synced_at	INTEGER CHECK (synced_at IS NULL OR
			    typeof(synced_at) = 'integer'),
	updated_at	INTEGER NOT NULL CHECK (typeof(updated_at) = 'integer')
);

-- "microca-admin azure status" lists the failed rows beside the pending
-- ones (schema.sql indexes those): few, and found without a scan.
CREATE INDEX certificates_azure_failed ON certificates (azure_sync)
    WHERE azure_sync = 'failed';

-- For auditors at the sqlite3 prompt: the queue as the sync job sees it,
-- in issue order, times in ISO 8601 UTC.
CREATE VIEW azure_queue AS
SELECT c.id, c.serial, c.label, c.subject, c.azure_sync AS state,
    coalesce(s.attempts, 0) AS attempts,
    CASE WHEN coalesce(s.next_attempt, 0) = 0 THEN NULL
	ELSE strftime('%Y-%m-%dT%H:%M:%SZ', s.next_attempt, 'unixepoch')
	END AS next_attempt,
    s.last_status, s.last_error, s.request_id, c.issued_at
FROM certificates AS c
LEFT JOIN azure_sync_state AS s ON s.cert_id = c.id
WHERE c.azure_sync IN ('pending', 'failed')
ORDER BY c.id;
