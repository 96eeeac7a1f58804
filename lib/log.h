/*
 * The one logger. The FastCGI program logs to syslog (the web server's
 * error log sees nothing of ours unless --logToTerminal); cron tools and
 * --logToTerminal log to stderr. This is the only part of lib/ that
 * writes anywhere, and only where main() told it to.
 */
#ifndef MCA_LOG_H
#define MCA_LOG_H

enum mca_log_level {
	MCA_LOG_ERR,
	MCA_LOG_WARN,
	MCA_LOG_INFO,
	MCA_LOG_DEBUG,
	MCA_LOG_MAX
};

/* ident: program name; to_stderr: 1 for stderr, 0 for syslog. */
void	 mca_log_open(const char *ident, int to_stderr, int debug);
void	 mca_log_close(void);

/*
 * Logs one line. Control characters (from untrusted subjects, labels)
 * are replaced so that one event is always one line.
 */
void	 mca_log(enum mca_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define mca_log_err(...)	mca_log(MCA_LOG_ERR, __VA_ARGS__)
#define mca_log_warn(...)	mca_log(MCA_LOG_WARN, __VA_ARGS__)
#define mca_log_info(...)	mca_log(MCA_LOG_INFO, __VA_ARGS__)
#define mca_log_debug(...)	mca_log(MCA_LOG_DEBUG, __VA_ARGS__)

#endif
