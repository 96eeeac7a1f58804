/*
 * Hooks: a program the operator names, run after a change (the mTLS
 * server certificate's trigger_server_restart_script). No shell: the
 * command is split on spaces into an argument vector and run with
 * execve() in its own process group, with a clean environment, standard
 * input from /dev/null, and a timeout after which the whole group is
 * killed.
 */
#ifndef MCA_HOOK_H
#define MCA_HOOK_H

#include "err.h"

#define MCA_HOOK_ARGS_MAX	32	/* words of a command, the path first */
#define MCA_HOOK_CMD_MAX	4096

/* How a hook ended. */
struct mca_hook_result {
	int	 exited;	/* 1: exit status in status */
	int	 status;	/* exit status, or the signal that ended it */
	int	 timed_out;	/* killed after the timeout */
	long	 ms;		/* how long it ran */
};

/*
 * Splits cmd into words separated by runs of spaces or tabs, into argv
 * (max entries including the NULL at the end) backed by buf (buflen at
 * least strlen(cmd) + 1). The first word must be an absolute path.
 * Returns 0 with *argc set, or MCA_ERR_INVAL (empty, relative path,
 * control characters, too many words) with d saying which.
 */
int	 mca_hook_split(const char *cmd, char *buf, size_t buflen,
	    char **argv, size_t max, int *argc, struct mca_diag *d);

/*
 * Runs cmd (mca_hook_split()) with the environment env (NULL-terminated
 * "NAME=value" strings; NULL: an empty one) and waits at most timeout
 * seconds; then its process group is killed (SIGKILL). r says how it ended. Returns 0 when it
 * exited with status 0; MCA_ERR_INVAL (cmd), MCA_ERR_IO (fork, or the
 * program exited non-zero, was killed, or timed out) with one line in
 * d.
 */
int	 mca_hook_run(const char *cmd, char *const *env, int timeout,
	    struct mca_hook_result *r, struct mca_diag *d);

#endif
