-- microca issuance ledger: the state of the cron tools' jobs.
--
-- Each cron tool (microca-renew, microca-azsync, microca-discover) runs
-- from crontab every few minutes but does its work only every
-- <interval> minutes (renewal_check_interval_time_in_minutes,
-- scan_interval_time_in_minutes): a job is due when it never ran, when
-- the interval has passed since its last check, or when its last check
-- lies in the future (the clock went back). The last check is kept here,
-- not in memory, so that the gate holds across runs and reboots
-- (lib/cli.h, mca_cli_due()).
--
-- One row per tool and job ("microca-renew", "intermediate"). Times are
-- Unix seconds. last_result is the outcome of that check: 'ok' (done, or
-- nothing was due), 'failed' (a step failed; last_message says why, one
-- line, never a secret) or 'pending' (waiting on the upstream, e.g. an
-- EST 202).
CREATE TABLE cron_state (
	tool			TEXT NOT NULL CHECK (length(tool) BETWEEN 1
				    AND 64),
	job			TEXT NOT NULL CHECK (length(job) BETWEEN 1
				    AND 64),
	last_check		INTEGER NOT NULL CHECK (typeof(last_check) =
				    'integer'),
	last_result		TEXT NOT NULL CHECK (last_result IN ('ok',
				    'failed', 'pending')),
	last_message		TEXT CHECK (last_message IS NULL OR
				    length(last_message) <= 512),
	PRIMARY KEY (tool, job)
);
