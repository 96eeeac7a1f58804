-- microca issuance ledger: superseded renewals (file 0005). A ledger
-- records the migrations it has by name (sql/embed.sh), so this one is
-- applied whichever of the others a ledger already has: it depends only
-- on schema.sql.
--
-- A certificate renewed once is done with: a second /simplereenroll
-- with it is refused (lib/ledger.c, mca_ledger_insert_renewal), except
-- within reenroll_grace_seconds of its first renewal, for a device that
-- lost the answer. Such a grace renewal makes the earlier renewal of the
-- same certificate superseded: superseded_by names the row that took its
-- place. So of the rows that renew a certificate, the one current is the
-- one not superseded, and a superseded certificate renews no more.

ALTER TABLE certificates ADD COLUMN superseded_by TEXT
    REFERENCES certificates(serial);
ALTER TABLE certificates ADD COLUMN superseded_at TEXT
    CHECK (superseded_at IS NULL OR superseded_at IS
	strftime('%Y-%m-%dT%H:%M:%SZ', superseded_at, '+0 seconds'));

-- A superseded certificate needs no more attention either.
DROP VIEW expiring_soon;
CREATE VIEW expiring_soon AS
SELECT c.id, c.serial, c.label, c.subject, c.issuer, c.not_after,
    c.issued_at
FROM certificates AS c
WHERE c.not_after > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  AND c.not_after <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+30 days')
  AND c.superseded_by IS NULL
  AND NOT EXISTS (SELECT 1 FROM certificates AS n
      WHERE n.replaces_serial = c.serial)
ORDER BY c.not_after, c.id;
