/*
 * Hooks (hook.h): fork, execve on an argument vector, a bounded wait,
 * and the process group killed on timeout. No shell anywhere.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "hook.h"

#define POLL_MS		20	/* between two looks at the child */

int
mca_hook_split(const char *cmd, char *buf, size_t buflen, char **argv,
    size_t max, int *argc, struct mca_diag *d)
{
	size_t	 len, n = 0;
	char	*s;

	*argc = 0;
	if (cmd == NULL || *cmd == '\0')
		return mca_diag(d, MCA_ERR_INVAL, "empty command");
	len = strlen(cmd);
	if (len >= buflen || len >= MCA_HOOK_CMD_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "command longer than %d "
		    "bytes", MCA_HOOK_CMD_MAX - 1);
	for (s = (char *)cmd; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return mca_diag(d, MCA_ERR_INVAL, "command has a "
			    "control character");
	memcpy(buf, cmd, len + 1);
	s = buf;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n + 1 >= max)
			return mca_diag(d, MCA_ERR_INVAL, "command has more "
			    "than %zu words", max - 1);
		argv[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
	}
	argv[n] = NULL;
	if (n == 0)
		return mca_diag(d, MCA_ERR_INVAL, "empty command");
	if (argv[0][0] != '/')
		return mca_diag(d, MCA_ERR_INVAL, "%s: not an absolute path",
		    argv[0]);
	*argc = (int)n;
	return 0;
}

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits for pid until deadline (ms, monotonic). 1 with *st when it
 * ended, 0 when it is still running, -1 on a waitpid error.
 */
static int
wait_until(pid_t pid, long long deadline, int *st)
{
	struct timespec	 ts = { 0, POLL_MS * 1000000L };
	pid_t		 w;

	for (;;) {
		w = waitpid(pid, st, WNOHANG);
		if (w == pid)
			return 1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			return 0;
		(void)nanosleep(&ts, NULL);
	}
}

/* In the child: its own group, stdin from /dev/null, then execve. */
static void
child(char **argv, char *const *env)
{
	static char *const	 none[] = { NULL };
	sigset_t		 all;
	int			 fd;

	(void)setpgid(0, 0);
	(void)sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		if (fd != STDIN_FILENO)
			(void)close(fd);
	}
	(void)execve(argv[0], argv, env != NULL ? env : none);
	_exit(127);
}

int
mca_hook_run(const char *cmd, char *const *env, int timeout,
    struct mca_hook_result *r, struct mca_diag *d)
{
	char		 buf[MCA_HOOK_CMD_MAX];
	char		*argv[MCA_HOOK_ARGS_MAX + 1];
	long long	 start;
	pid_t		 pid;
	int		 argc, rc, st = 0, w;

	memset(r, 0, sizeof(*r));
	mca_diag_clear(d);
	if ((rc = mca_hook_split(cmd, buf, sizeof(buf), argv,
	    MCA_HOOK_ARGS_MAX + 1, &argc, d)) != 0)
		return rc;
	if (access(argv[0], X_OK) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: cannot be run: %s",
		    argv[0], strerror(errno));
	if (timeout < 1)
		timeout = 1;
	start = now_ms();
	if ((pid = fork()) == -1)
		return mca_diag(d, MCA_ERR_IO, "%s: fork: %s", argv[0],
		    strerror(errno));
	if (pid == 0)
		child(argv, env);
	/* Both sides set the group, so that a kill never misses it. */
	(void)setpgid(pid, pid);

	w = wait_until(pid, start + (long long)timeout * 1000, &st);
	if (w == 0) {
		/* The whole group, before the leader is reaped. */
		r->timed_out = 1;
		(void)kill(-pid, SIGKILL);
		while ((w = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
			;
		w = w == pid ? 1 : -1;
	}
	r->ms = (long)(now_ms() - start);
	if (w < 0)
		return mca_diag(d, MCA_ERR_IO, "%s: waitpid: %s", argv[0],
		    strerror(errno));
	if (WIFEXITED(st)) {
		r->exited = 1;
		r->status = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st))
		r->status = WTERMSIG(st);
	if (r->timed_out)
		return mca_diag(d, MCA_ERR_IO, "%s: still running after %d "
		    "s: its process group was killed", argv[0], timeout);
	if (!r->exited)
		return mca_diag(d, MCA_ERR_IO, "%s: killed by signal %d",
		    argv[0], r->status);
	if (r->status == 127)
		return mca_diag(d, MCA_ERR_IO, "%s: exited with status 127 "
		    "(it could not be executed?)", argv[0]);
	if (r->status != 0)
		return mca_diag(d, MCA_ERR_IO, "%s: exited with status %d",
		    argv[0], r->status);
	return 0;
}
