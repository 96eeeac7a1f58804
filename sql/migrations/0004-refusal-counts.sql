-- microca issuance ledger, schema version 4: refusals kept bounded.
--
-- Each refused enrollment was a row of refusals, without limit: a flood
-- of bad requests (anonymous ones too) grew the file and took the write
-- lock from enrollments. Now a minute keeps at most
-- refusals_per_minute_max rows (microca.json(5)); the refusals beyond
-- them are counted here, per minute, label and HTTP status, and both
-- tables lose what is older than refusals_keep_days. refusals_at (the
-- index on refusals.at) drives both the per-minute count and the
-- pruning; the key of this table drives its own.

CREATE TABLE refusal_counts (
	minute		TEXT NOT NULL		-- 'YYYY-MM-DDTHH:MM:00Z' (UTC)
			CHECK (minute GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:00Z'),
	label		TEXT NOT NULL,		-- '' when there was none
	status		INTEGER NOT NULL,	-- HTTP status
	n		INTEGER NOT NULL CHECK (n > 0),
	PRIMARY KEY (minute, label, status)
) WITHOUT ROWID;
