-- microca issuance ledger: the tamper-evident chain kept in the rows
-- themselves (file 0014; issue 16; lib/ledger_chain.c, microca-admin(8)
-- "ledger verify"). Replaces the table ledger_chain of 0012.
--
-- Every row of certificates and of revocations carries its place on one
-- hash chain, which runs over both tables in the order the rows were
-- written:
--   chain_seq   its number on the chain, from 1
--   chain_prev  the chain_hash of row chain_seq - 1 (32 zero bytes for 1)
--   chain_hash  SHA-256(F("microca-ledger-chain-1") || F(chain_seq) ||
--               F(table name) || F(column 1) || ... || F(column n) ||
--               F(chain_prev))
-- where F(x) is x's length as 4 bytes big-endian and then x's bytes,
-- F(NULL) the 4 bytes FF FF FF FF and nothing else; chain_seq and every
-- column are taken as the text SQLite gives for them (integers in
-- decimal, text as stored, UTF-8). The columns, in this order:
--   certificates: id serial subject san issuer not_before not_after
--     label operation requester_subject requester_serial
--     requester_issuer remote_addr sha1 sha256 key_type key_origin pem
--     replaces_serial issued_at auth_method requester_user passcode_id
--   revocations: id serial action reason revoked_at invalidity_date
--     revoked_by
-- Not hashed: the columns that change after the insert, by design
-- (certificates.azure_sync, superseded_by, superseded_at) and the three
-- chain columns. The encoding is 0012's, so the hashes 0012 made are
-- kept as they are.
--
-- Why in the rows: a row of its own for each link cost every enrollment
-- one more B-tree page written to the WAL (doc/PERFORMANCE.md). Here the
-- writer stamps the row it has just inserted, on the page the insert
-- dirtied, in the insert's own BEGIN IMMEDIATE transaction, after
-- reading the head (the last row of each table, by the rowid) under the
-- write lock: the chain stays linear with any number of workers. Within
-- each table chain_seq grows with id; the verifier walks both tables by
-- id side by side. No index: none is needed, and one would cost every
-- enrollment a write.
--
-- The rows the ledger had that 0012 did not chain, and rows written by
-- an older microca while this one ran, are chained by lib/ledger.c (SQL
-- has no SHA-256): after the last chained row of each table,
-- certificates by id, then revocations by id.
ALTER TABLE certificates ADD COLUMN chain_seq INTEGER;
ALTER TABLE certificates ADD COLUMN chain_prev BLOB;
ALTER TABLE certificates ADD COLUMN chain_hash BLOB;
ALTER TABLE revocations ADD COLUMN chain_seq INTEGER;
ALTER TABLE revocations ADD COLUMN chain_prev BLOB;
ALTER TABLE revocations ADD COLUMN chain_hash BLOB;

-- 0012's links move into their rows. A link whose row is gone, or two
-- links for one row (a ledger tampered with), leave a gap that "ledger
-- verify" names: run it before the upgrade to see the ledger as 0012
-- kept it.
DROP TRIGGER revocations_no_update;
UPDATE certificates SET chain_seq = c.seq, chain_prev = c.prev_hash,
    chain_hash = c.hash
FROM ledger_chain AS c
WHERE c.tbl = 'certificates' AND c.row_id = certificates.id;
UPDATE revocations SET chain_seq = c.seq, chain_prev = c.prev_hash,
    chain_hash = c.hash
FROM ledger_chain AS c
WHERE c.tbl = 'revocations' AND c.row_id = revocations.id;
DROP TABLE ledger_chain;

-- Append-only still, as far as SQL reaches: the one update a revocation
-- gets is its chain stamp, once, right after its insert.
CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations
WHEN OLD.chain_hash IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.serial IS NOT OLD.serial
  OR NEW.action IS NOT OLD.action OR NEW.reason IS NOT OLD.reason
  OR NEW.revoked_at IS NOT OLD.revoked_at
  OR NEW.invalidity_date IS NOT OLD.invalidity_date
  OR NEW.revoked_by IS NOT OLD.revoked_by
BEGIN
	SELECT RAISE(ABORT, 'revocations is append-only');
END;

-- A certificate's place on the chain is written once.
CREATE TRIGGER certificates_chain_once
BEFORE UPDATE OF chain_seq, chain_prev, chain_hash ON certificates
WHEN OLD.chain_hash IS NOT NULL
BEGIN
	SELECT RAISE(ABORT, 'certificates: a row is chained once');
END;
