#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

static const char *const mca_log_names[MCA_LOG_MAX] = {
	"error", "warning", "info", "debug"
};
static const int mca_log_prio[MCA_LOG_MAX] = {
	LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
};

static int	 log_stderr = 1;
static int	 log_debug;
static int	 log_opened;
static char	 log_ident[64] = "microca";

void
mca_log_open(const char *ident, int to_stderr, int debug)
{
	if (ident != NULL)
		(void)snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_stderr = to_stderr;
	log_debug = debug;
	if (!to_stderr && !log_opened) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_opened = 1;
	}
}

void
mca_log_close(void)
{
	if (log_opened)
		closelog();
	log_opened = 0;
}

void
mca_log(enum mca_log_level level, const char *fmt, ...)
{
	char		 line[2048];
	va_list		 ap;
	struct tm	 tm;
	time_t		 now;
	char		 ts[32];

	if (level < 0 || level >= MCA_LOG_MAX)
		level = MCA_LOG_ERR;
	if (level == MCA_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: no control characters from untrusted text. */
	mca_text_ctl_replace(line, '?');
	if (!log_stderr) {
		syslog(mca_log_prio[level], "%s: %s", mca_log_names[level],
		    line);
		return;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		ts[0] = '\0';
	(void)fprintf(stderr, "%s %s[%ld] %s: %s\n", ts, log_ident,
	    (long)getpid(), mca_log_names[level], line);
}
