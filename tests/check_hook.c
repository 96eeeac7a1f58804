/*
 * lib/hook.c: the command split into words (no shell), and runs that
 * exit 0, exit 3, hang past their timeout (the group killed), or cannot
 * be run.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "hook.h"
#include "testutil.h"

Suite	*hook_suite(void);

static const struct {
	const char	*cmd;
	int		 rc;
	int		 argc;
	const char	*words;		/* joined by '|', or the message */
} split[] = {
	{ "/bin/true", 0, 1, "/bin/true" },
	{ "  /usr/sbin/restart  lighttpd\t-q ", 0, 3,
	    "/usr/sbin/restart|lighttpd|-q" },
	{ "/x 'a b'", 0, 3, "/x|'a|b'" },	/* no quoting, no shell */
	{ "/x $HOME;rm", 0, 2, "/x|$HOME;rm" },
	{ "", MCA_ERR_INVAL, 0, "empty command" },
	{ "   ", MCA_ERR_INVAL, 0, "empty command" },
	{ "restart.sh", MCA_ERR_INVAL, 0, "restart.sh: not an absolute path" },
	{ "./restart.sh", MCA_ERR_INVAL, 0, "not an absolute path" },
	{ "/x\ny", MCA_ERR_INVAL, 0, "control character" },
	{ "/x a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 "
	    "5", MCA_ERR_INVAL, 0, "more than 32 words" },
};

START_TEST(test_split)
{
	struct mca_diag	 d;
	char		 buf[MCA_HOOK_CMD_MAX], got[512];
	char		*argv[MCA_HOOK_ARGS_MAX + 1];
	size_t		 n;
	int		 argc = -1, rc, i;

	rc = mca_hook_split(split[_i].cmd, buf, sizeof(buf), argv,
	    MCA_HOOK_ARGS_MAX + 1, &argc, &d);
	ck_assert_msg(rc == split[_i].rc, "case %d: %d (%s)", _i, rc, d.msg);
	if (rc != 0) {
		ck_assert_msg(strstr(d.msg, split[_i].words) != NULL,
		    "case %d: %s", _i, d.msg);
		ck_assert_int_eq(argc, 0);
		return;
	}
	ck_assert_int_eq(argc, split[_i].argc);
	got[0] = '\0';
	for (i = 0, n = 0; i < argc && n < sizeof(got); i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s",
		    i > 0 ? "|" : "", argv[i]);
	ck_assert_ptr_null(argv[argc]);
	ck_assert_str_eq(got, split[_i].words);
}
END_TEST

START_TEST(test_run)
{
	struct mca_hook_result	 r;
	struct mca_diag		 d;
	struct mca_buf		 b = MCA_BUF_INIT;
	char			*dir = tu_mkdtemp("hook");
	char			 sh[1024], cmd[2200], out[1024];
	char *const		 env[] = { "PATH=/usr/bin:/bin", "X=1", NULL };

	(void)snprintf(sh, sizeof(sh), "%s/h.sh", dir);
	(void)snprintf(out, sizeof(out), "%s/out", dir);
	ck_assert_int_eq(tu_writef(sh, "#!/bin/sh\n"
	    "echo \"$# $1 $X ${HOME:-none}\" > \"$2\"\n"
	    "case $1 in hang) sleep 600 & wait;; esac\nexit $1\n"), 0);
	ck_assert_int_eq(chmod(sh, 0755), 0);

	(void)snprintf(cmd, sizeof(cmd), "%s 0 %s", sh, out);
	ck_assert_msg(mca_hook_run(cmd, env, 30, &r, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(r.exited, 1);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(tu_read(out, &b), 0);
	ck_assert_str_eq(mca_buf_str(&b), "2 0 1 none\n");

	(void)snprintf(cmd, sizeof(cmd), "%s 3 %s", sh, out);
	ck_assert_int_eq(mca_hook_run(cmd, env, 30, &r, &d), MCA_ERR_IO);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(d.msg, "exited with status 3"));

	(void)snprintf(cmd, sizeof(cmd), "%s hang %s", sh, out);
	ck_assert_int_eq(mca_hook_run(cmd, env, 1, &r, &d), MCA_ERR_IO);
	ck_assert_int_eq(r.timed_out, 1);
	ck_assert_ptr_nonnull(strstr(d.msg, "still running after 1 s"));

	(void)snprintf(cmd, sizeof(cmd), "%s/nonesuch", dir);
	ck_assert_int_eq(mca_hook_run(cmd, env, 1, &r, &d), MCA_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "cannot be run"));
	ck_assert_int_eq(mca_hook_run("h.sh", env, 1, &r, &d), MCA_ERR_INVAL);
	mca_buf_free(&b);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
hook_suite(void)
{
	Suite	*s = suite_create("hook");
	TCase	*tc = tcase_create("hook");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_split, 0, (int)(sizeof(split) /
	    sizeof(split[0])));
	tcase_add_test(tc, test_run);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(hook_suite());
}
