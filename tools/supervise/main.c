/* main.c: shomei-supervise, which keeps one process of the stack running.
 *
 *   shomei-supervise -n NAME [-p PIDFILE] [-H HOLDFILE] [-s SIGNAL] [-t SECONDS] -- COMMAND ARGS...
 *   shomei-supervise -C SOCKET
 *
 * It starts COMMAND in a session of its own and starts it again whenever it ends, for whatever
 * reason, unless it was asked to stop: after 0.5 s, doubling up to 30 s while the command keeps
 * failing, back to 0.5 s once a run lasted 60 s. While HOLDFILE exists it starts nothing (an
 * operator's or a test's "keep it down"). SIGTERM or SIGINT is forwarded to the command (as
 * SIGNAL when -s is given), and once the command has ended (SIGKILL after -t seconds, 20 by
 * default) whatever is left of its process group is killed and the supervisor exits 0. Every
 * start, end and restart is one key=value line on standard error.
 *
 * -C SOCKET connects to a unix stream socket and exits 0 if something accepted the connection:
 * unlike `test -S`, a socket file left behind by a killed process does not count.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define DELAY_FIRST_MS 500
#define DELAY_MAX_MS 30000
#define STEADY_MS 60000
#define HOLD_POLL_MS 200

struct opts {
	const char *name;
	const char *pidfile;
	const char *holdfile;
	int stopsig; /* 0: forward the signal received */
	int kill_after;
	char **argv;
};

static sigset_t g_sigs; /* blocked, and taken with sigtimedwait */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: shomei-supervise -n NAME [-p PIDFILE] [-H HOLDFILE] [-s SIGNAL] [-t SECONDS] -- COMMAND...\n"
		"       shomei-supervise -C SOCKET\n"
		"  -n NAME     the name in its log lines\n"
		"  -p FILE     write the supervisor's process id to FILE (removed at exit)\n"
		"  -H FILE     start nothing while FILE exists\n"
		"  -s SIGNAL   send SIGNAL (TERM, INT, QUIT or HUP) to stop the command instead of\n"
		"              forwarding the SIGTERM or SIGINT received\n"
		"  -t SECONDS  SIGKILL the command when it has not ended that long after (20)\n"
		"  -C SOCKET   exit 0 if a unix socket accepts a connection, 1 if not\n");
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
connect_check(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int fd, rc;

	if (len >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 2;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0 ? 0 : 1;
}

static int
parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"HUP", SIGHUP}};

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(s, sigs[i].name) == 0)
			return sigs[i].sig;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o, const char **check)
{
	char *end;
	long v;
	int c;

	while ((c = getopt(argc, argv, "+n:p:H:s:t:C:h")) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'H':
			o->holdfile = optarg;
			break;
		case 's':
			if ((o->stopsig = parse_signal(optarg)) == 0)
				return -1;
			break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600)
				return -1;
			o->kill_after = (int)v;
			break;
		case 'C':
			*check = optarg;
			break;
		default:
			return -1;
		}
	}
	if (*check != NULL)
		return optind == argc ? 0 : -1;
	if (o->name == NULL || optind >= argc)
		return -1;
	o->argv = argv + optind;
	return 0;
}

static int
write_pidfile(const char *path)
{
	char buf[32];
	int fd, n, rc = 0;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		rc = -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int
held(const struct opts *o)
{
	return o->holdfile != NULL && access(o->holdfile, F_OK) == 0;
}

/* The child: a session of its own, the signal state of a fresh process, then the command. */
static pid_t
spawn(const struct opts *o)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setsid();
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(o->argv[0], o->argv);
	fprintf(stderr, "shomei-supervise: %s: %s\n", o->argv[0], strerror(errno));
	_exit(127);
}

/* Wait up to ms milliseconds for one of g_sigs: the signal, or 0 when the time is up. */
static int
wait_signal(long long ms)
{
	long long until = now_ms() + (ms < 0 ? 0 : ms);
	struct timespec ts;
	int sig;

	for (;;) {
		long long left = until - now_ms();

		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		if ((sig = sigtimedwait(&g_sigs, NULL, &ts)) > 0)
			return sig;
		if (errno != EINTR || left == 0)
			return 0;
	}
}

/* Has the child ended? Left a zombie (WNOWAIT) so its process group cannot be reused yet. */
static int
ended(pid_t child, siginfo_t *si)
{
	memset(si, 0, sizeof(*si));
	if (waitid(P_PID, (id_t)child, si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return si->si_pid == child;
}

static void
log_exit(const struct opts *o, pid_t child, const siginfo_t *si, long long ran)
{
	if (si->si_code == CLD_EXITED)
		log_msg(si->si_status == 0 ? LOG_INFO : LOG_WARN,
			"event=exit service=%s pid=%ld status=%d ran_ms=%lld", o->name, (long)child,
			si->si_status, ran);
	else
		log_msg(LOG_WARN, "event=exit service=%s pid=%ld signal=%d%s ran_ms=%lld", o->name,
			(long)child, si->si_status, si->si_code == CLD_DUMPED ? " core=1" : "",
			ran);
}

/* Reap what the command's children left to us (we are their subreaper), never the command. */
static void
reap_orphans(pid_t child)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0 ||
		    si.si_pid == child)
			return;
		waitpid(si.si_pid, NULL, WNOHANG);
	}
}

/* After the command: up to a second for the rest of its process group, killed, to be reaped. */
static void
reap_all(void)
{
	for (int i = 0; i < 100; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0 && errno == ECHILD)
			return;
		if (p <= 0)
			usleep(10000);
	}
}

/* Run the command until it ends; 1 when the supervisor was asked to stop meanwhile. */
static int
run_once(const struct opts *o, int restarts, long long *ran)
{
	long long started = now_ms(), deadline = 0;
	int stopping = 0, sig;
	siginfo_t si;
	pid_t child;

	if ((child = spawn(o)) < 0) {
		log_msg(LOG_ERROR, "event=fork_failed service=%s errno=%d", o->name, errno);
		*ran = 0;
		return 0;
	}
	log_msg(LOG_INFO, "event=start service=%s pid=%ld restarts=%d", o->name, (long)child,
		restarts);
	while (!ended(child, &si)) {
		reap_orphans(child);
		/* a one-second look even without a signal: SIGCHLD is the fast path, not the only
		 * one */
		sig = wait_signal(stopping ? (deadline > now_ms() ? deadline - now_ms() : 0)
					   : 1000);
		if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping) {
				log_msg(LOG_INFO, "event=stopping service=%s signal=%d pid=%ld",
					o->name, sig, (long)child);
				kill(child, o->stopsig ? o->stopsig : sig);
				stopping = 1;
				deadline = now_ms() + (long long)o->kill_after * 1000;
			}
		} else if (sig == SIGHUP) {
			kill(child, SIGHUP);
		} else if (sig == 0 && stopping && now_ms() >= deadline) {
			log_msg(LOG_WARN, "event=kill service=%s pid=%ld after_s=%d", o->name,
				(long)child, o->kill_after);
			kill(-child, SIGKILL);
			kill(child, SIGKILL);
			deadline = now_ms() + 3600 * 1000LL;
		}
	}
	*ran = now_ms() - started;
	log_exit(o, child, &si, *ran);
	/* whatever the command left in its process group goes with it */
	kill(-child, SIGKILL);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	reap_all();
	return stopping;
}

/* Wait ms milliseconds, or for as long as the hold file exists: a release starts the command at
 * once, whatever was left of the wait. 1 when asked to stop meanwhile. */
static int
pause_for(const struct opts *o, long long ms)
{
	long long until = now_ms() + ms, left;
	int was_held = 0, sig;

	for (;;) {
		if (held(o)) {
			if (!was_held)
				log_msg(LOG_INFO, "event=held service=%s hold=%s", o->name,
					o->holdfile);
			was_held = 1;
			left = HOLD_POLL_MS;
		} else if (was_held) {
			log_msg(LOG_INFO, "event=released service=%s", o->name);
			return 0;
		} else if ((left = until - now_ms()) <= 0) {
			return 0;
		} else if (left > HOLD_POLL_MS) {
			left = HOLD_POLL_MS;
		}
		sig = wait_signal(left);
		if (sig == SIGTERM || sig == SIGINT) {
			log_msg(LOG_INFO, "event=stopping service=%s signal=%d pid=none", o->name,
				sig);
			return 1;
		}
	}
}

static void
supervise(const struct opts *o)
{
	long long delay = DELAY_FIRST_MS, ran;
	int restarts = 0;

	if (pause_for(o, 0))
		return;
	for (;;) {
		if (run_once(o, restarts, &ran))
			return;
		if (ran >= STEADY_MS)
			delay = DELAY_FIRST_MS;
		if (!held(o))
			log_msg(LOG_INFO, "event=restart service=%s delay_ms=%lld", o->name, delay);
		if (pause_for(o, delay))
			return;
		delay = delay * 2 > DELAY_MAX_MS ? DELAY_MAX_MS : delay * 2;
		restarts++;
	}
}

int
main(int argc, char **argv)
{
	struct opts o = {.kill_after = 20};
	const char *check = NULL;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &o, &check) != 0) {
		usage(stderr);
		return 2;
	}
	if (check != NULL)
		return connect_check(check);
	log_init("shomei-supervise", "info", LOG_FORMAT_TEXT);
	/* a shell's background job starts with SIGINT ignored; this one takes it */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&g_sigs);
	sigaddset(&g_sigs, SIGTERM);
	sigaddset(&g_sigs, SIGINT);
	sigaddset(&g_sigs, SIGHUP);
	sigaddset(&g_sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &g_sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* what the command leaves behind when it dies is reparented here and reaped */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if ((rc = write_pidfile(o.pidfile)) != 0) {
		log_msg(LOG_ERROR, "event=pidfile_failed service=%s errno=%d", o.name, -rc);
		return 1;
	}
	log_msg(LOG_INFO, "event=supervise service=%s pid=%ld", o.name, (long)getpid());
	supervise(&o);
	log_msg(LOG_INFO, "event=stopped service=%s", o.name);
	if (o.pidfile != NULL)
		unlink(o.pidfile);
	return 0;
}
