-- microca issuance ledger, schema version 6: failure budgets for
-- enrollment passcodes.
--
-- Each wrong secret costs the server one scrypt hash (lib/passcode.h),
-- which is the point of the hash and also a lever: a flood of wrong
-- passcodes kept the workers busy hashing and slowed real enrollments.
-- Two budgets bound that work (cgi/basicauth.c), shared by all workers
-- through this file:
--  - per passcode: after passcode_failures_max wrong secrets within
--    passcode_failure_window_seconds, the passcode is refused (429) with
--    no hash until the window ends;
--  - per client address (REMOTE_ADDR; an IPv6 address by its /64): the
--    same after passcode_address_failures_max failures of any kind
--    (wrong secrets and unknown IDs).
-- A window opens with its first failure and ends window seconds later;
-- the next failure after that opens a new one. Times are Unix seconds.
-- Only failures that were checked are counted: a refusal by budget costs
-- no write, so a flood writes at most max rows' worth per window, however
-- fast it comes.

-- The per-passcode budget lives on the passcode's own row: one row per
-- passcode, none for IDs that do not exist (those never cost a hash).
ALTER TABLE passcodes ADD COLUMN failures INTEGER NOT NULL DEFAULT 0
    CHECK (typeof(failures) = 'integer' AND failures >= 0);
ALTER TABLE passcodes ADD COLUMN failures_since INTEGER
    CHECK (failures_since IS NULL OR typeof(failures_since) = 'integer');

-- The per-address budget. Bounded: rows whose window has ended are
-- deleted with each new failure, and beyond a fixed number of rows
-- (lib/ledger.c, MCA_LEDGER_ADDR_ROWS) the oldest windows go first.
CREATE TABLE address_failures (
	addr			TEXT NOT NULL UNIQUE CHECK (length(addr) <= 64),
	failures		INTEGER NOT NULL CHECK (typeof(failures) =
				    'integer' AND failures >= 1),
	since			INTEGER NOT NULL CHECK (typeof(since) =
				    'integer')
);
CREATE INDEX address_failures_since ON address_failures (since);
