-- microca issuance ledger: the tamper-evident chain (file 0012; issue
-- 16; lib/ledger_chain.c, microca-admin(8) "ledger verify").
--
-- One hash chain runs over the ledger's append-only rows, certificates
-- and revocations together, in the order they were written. Row seq of
-- ledger_chain names one of them (tbl, row_id = its id) and holds
--   hash = SHA-256(F("microca-ledger-chain-1") || F(seq) || F(tbl) ||
--                  F(column 1) || ... || F(column n) || F(prev_hash))
-- where F(x) is x's length as 4 bytes big-endian and then x's bytes,
-- F(NULL) the 4 bytes FF FF FF FF and nothing else; seq and every
-- column are taken as the text SQLite gives for them (integers in
-- decimal, text as stored, UTF-8); prev_hash is the hash of row seq - 1
-- (32 bytes), 32 zero bytes for seq 1. The columns, in this order:
--   certificates: id serial subject san issuer not_before not_after
--     label operation requester_subject requester_serial
--     requester_issuer remote_addr sha1 sha256 key_type key_origin pem
--     replaces_serial issued_at auth_method requester_user passcode_id
--   revocations: id serial action reason revoked_at invalidity_date
--     revoked_by
-- Not hashed: the columns that change after the insert, by design
-- (certificates.azure_sync, superseded_by, superseded_at).
--
-- The writer computes the hash in the insert's own BEGIN IMMEDIATE
-- transaction, reading the head (the row of the highest seq) under the
-- write lock: the chain stays linear with any number of workers. The
-- rows a ledger already had when this file was applied are chained by
-- lib/ledger.c in the same transaction (SQL has no SHA-256):
-- certificates by id, then revocations by id.
--
-- No UNIQUE index on (tbl, row_id): "ledger verify" walks ledger_chain
-- and both tables in order side by side and finds a row twice or
-- missing by itself; an index would cost every enrollment a write.
CREATE TABLE ledger_chain (
	seq		INTEGER PRIMARY KEY,
	tbl		TEXT NOT NULL CHECK (tbl IN
			    ('certificates', 'revocations')),
	row_id		INTEGER NOT NULL,
	prev_hash	BLOB NOT NULL CHECK (length(prev_hash) = 32),
	hash		BLOB NOT NULL CHECK (length(hash) = 32)
);
