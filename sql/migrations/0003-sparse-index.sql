-- microca issuance ledger, schema version 3: replaces_serial indexed only
-- where it is set.
--
-- Only renewals (simplereenroll) link to the certificate they replace;
-- every new enrollment stored a NULL entry in this index all the same:
-- one more B-tree page written and synced per enrollment, and about
-- 20 MB of NULLs in a ledger of a million certificates. The renewal
-- lookup (replaces_serial = ?) implies IS NOT NULL, so SQLite still uses
-- the index for it.

DROP INDEX certificates_replaces_serial;
CREATE INDEX certificates_replaces_serial ON certificates (replaces_serial)
    WHERE replaces_serial IS NOT NULL;
