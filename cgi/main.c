/*
 * microca-est: the EST server as a FastCGI program. main() only decides:
 * it parses the command line, opens the server once, and runs the accept
 * loop. Started by a FastCGI process manager (lighttpd, Apache
 * mod_fcgid), it serves requests until told to stop; started any other
 * way (a web server's plain CGI, or a test), it serves exactly one
 * request from the CGI environment and stdin.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <openssl/crypto.h>

#include "log.h"
#include "secmem.h"
#include "server.h"

#define DEFAULT_CONFIG	"/etc/microca/config.json"

static volatile sig_atomic_t	 quit;

static void
on_term(int sig)
{
	(void)sig;
	quit = 1;
	FCGX_ShutdownPending();
}

static void
usage(void)
{
	fprintf(stderr, "usage: microca-est [--config PATH] [--logToTerminal] "
	    "[--logFile PATH] "
	    "[--debugMode] [--check]\n");
	exit(2);
}

/* ---- plain CGI: one request from the environment and stdin */

static const char *
cgi_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static ssize_t
cgi_read(void *arg, unsigned char *buf, size_t len)
{
	(void)arg;
	return read(STDIN_FILENO, buf, len);
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- FastCGI */

static const char *
fcgi_getenv(void *arg, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

static ssize_t
fcgi_read(void *arg, unsigned char *buf, size_t len)
{
	int	 n;

	n = FCGX_GetStr((char *)buf, len > INT_MAX ? INT_MAX : (int)len,
	    ((FCGX_Request *)arg)->in);
	return n < 0 ? -1 : n;
}

/*
 * Once written, a response is wiped: a /serverkeygen answer holds a
 * private key, and out lives on to the next request.
 */
static void
wipe_out(struct mca_buf *out)
{
	if (out->data != NULL)
		OPENSSL_cleanse(out->data, out->cap);
	mca_buf_reset(out);
}

/*
 * libfcgi copies what we write into its stream buffer and frees it,
 * unwiped, when the request ends. Before the first write the buffer is
 * empty from wrNext (just past the room for a record header) to stop,
 * its end: all that will ever hold our bytes, however many records they
 * take. Wipe it after the flush, before FCGX_Finish_r frees it.
 */
static void
fcgi_put_wiped(const struct mca_buf *out, FCGX_Stream *s)
{
	unsigned char	*from = s->wrNext, *to = s->stop;

	(void)FCGX_PutStr((const char *)out->data, (int)out->len, s);
	(void)FCGX_FFlush(s);
	if (from != NULL && to > from)
		OPENSSL_cleanse(from, (size_t)(to - from));
}

/*
 * A worker holds keys it makes for clients: no core dump, and no other
 * process of the same user may read its memory (ptrace, /proc/PID/mem).
 */
static void
no_dumps(void)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		err(1, "setrlimit RLIMIT_CORE");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		err(1, "prctl PR_SET_DUMPABLE");
}

/*
 * A FastCGI worker lives no longer than the process that started it
 * (lighttpd; mod_fcgid's process manager): SIGTERM when it goes, and if
 * it went before we asked, we are someone else's child already.
 */
static void
follow_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		err(1, "prctl PR_SET_PDEATHSIG");
	if (getppid() != parent) {
		mca_log_info("the process that started this worker (pid %ld) "
		    "is gone; exiting", (long)parent);
		exit(0);
	}
}

/* Serves one request into out (serialized); the caller writes it. */
static int
serve_one(struct mca_server *srv, struct mca_request *req,
    struct mca_buf *out)
{
	struct mca_resp	 resp;
	int		 rc;

	mca_resp_init(&resp);
	mca_serve(srv, req, &resp);
	mca_buf_reset(out);
	rc = mca_resp_serialize(&resp, out);
	mca_resp_free(&resp);
	mca_client_clear(&req->client);
	return rc;
}

static void
init_request(struct mca_request *req,
    const char *(*get)(void *, const char *),
    ssize_t (*rd)(void *, unsigned char *, size_t), void *arg)
{
	memset(req, 0, sizeof(*req));
	req->getenv = get;
	req->read = rd;
	req->arg = arg;
}

int
main(int argc, char *argv[])
{
	struct mca_server	*srv = NULL;
	struct mca_request	 req;
	struct mca_buf		 out = MCA_BUF_INIT;
	struct mca_diag		 d;
	struct sigaction	 sa;
	FCGX_Request		 rq;
	const char		*config = NULL, *logfile = NULL;
	struct mca_resp		 fail;
	pid_t			 parent;
	int			 i, to_term = 0, debug = 0, check = 0, cgi;
	int			 secmem, locked;

	/* Before anything allocates through OpenSSL (secmem.h). */
	secmem = mca_secmem_init(MCA_SECMEM_HEAP, &locked);
	parent = getppid();
	no_dumps();

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--logToTerminal") == 0)
			to_term = 1;
		else if (strcmp(argv[i], "--logFile") == 0 && i + 1 < argc)
			logfile = argv[++i];
		else if (strcmp(argv[i], "--debugMode") == 0)
			debug = 1;
		else if (strcmp(argv[i], "--check") == 0)
			check = to_term = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("microca-est %s\n", PACKAGE_VERSION);
			return 0;
		} else
			usage();
	}
	if (config == NULL && (config = getenv("MICROCA_CONFIG")) == NULL)
		config = DEFAULT_CONFIG;
	/*
	 * lighttpd starts FastCGI workers with standard error on /dev/null
	 * (only mod_cgi gets server.breakagelog): without syslog, a file is
	 * the way to see their log. O_APPEND: each line is one write, so the
	 * workers' lines do not mix.
	 */
	if (logfile != NULL) {
		int	 fd;

		fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0640);
		if (fd == -1)
			err(1, "--logFile %s", logfile);
		if (fd != STDERR_FILENO) {
			if (dup2(fd, STDERR_FILENO) == -1)
				err(1, "--logFile %s", logfile);
			(void)close(fd);
		}
		to_term = 1;
	}
	mca_log_open("microca-est", to_term, debug);
	if (secmem != 0) {
		mca_log_err("cannot set up wiped memory for keys: %s",
		    mca_strerror(secmem));
		return 1;
	}
	if (!locked)
		mca_log_debug("the OpenSSL secure heap is not locked in memory "
		    "(RLIMIT_MEMLOCK)");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	/* No SA_RESTART: a blocked accept() returns, and the loop ends. */
	sa.sa_handler = on_term;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGUSR1, &sa, NULL);

	cgi = FCGX_IsCGI();
	if (!cgi && !check)
		follow_parent(parent);
	mca_diag_clear(&d);
	if (mca_server_open(config, &srv, &d) != 0) {
		mca_log_err("%s", d.msg);
		if (check)
			return 1;
		/* A CGI client still gets an HTTP answer, not a hang-up. */
		if (cgi) {
			mca_resp_init(&fail);
			if (mca_resp_error(&fail, 500, "the EST server cannot "
			    "start; its log says why") == 0 &&
			    mca_resp_serialize(&fail, &out) == 0)
				(void)write_all(STDOUT_FILENO, out.data,
				    out.len);
			mca_resp_free(&fail);
		}
		return 1;
	}
	if (check) {
		mca_log_info("%s: configuration is valid (%zu label%s)",
		    config, srv->cfg->nprofiles,
		    srv->cfg->nprofiles == 1 ? "" : "s");
		mca_server_close(srv);
		return 0;
	}

	if (cgi) {
		init_request(&req, cgi_getenv, cgi_read, NULL);
		if (serve_one(srv, &req, &out) == 0)
			(void)write_all(STDOUT_FILENO, out.data, out.len);
		wipe_out(&out);
	} else {
		mca_log_info("serving FastCGI requests (%zu labels)",
		    srv->cfg->nprofiles);
		/*
		 * An enrollment's allocations top the heap by a few hundred
		 * KiB; glibc gives back anything over 128 KiB at each free,
		 * so every request grew the heap again and faulted in fresh
		 * zeroed pages (two brk calls and about 3% of a worker's
		 * CPU). Keep up to 1 MiB.
		 */
		(void)mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
		if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
			errx(1, "cannot initialise FastCGI");
		/* PDEATHSIG ends a blocked accept; getppid() a late one. */
		while (!quit && getppid() == parent &&
		    FCGX_Accept_r(&rq) >= 0) {
			init_request(&req, fcgi_getenv, fcgi_read, &rq);
			if (serve_one(srv, &req, &out) == 0)
				fcgi_put_wiped(&out, rq.out);
			wipe_out(&out);
			FCGX_Finish_r(&rq);
		}
		FCGX_Free(&rq, 1);
		mca_log_info("stopping");
	}
	mca_buf_free(&out);
	mca_server_close(srv);
	mca_log_close();
	return 0;
}
