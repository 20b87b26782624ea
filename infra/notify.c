#include "infra/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

/* The socket's address from NOTIFY_SOCKET; 0 when unset or unusable. */
static socklen_t notify_addr(struct sockaddr_un *sa)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n = path ? strlen(path) : 0;

	if (n < 2 || (path[0] != '/' && path[0] != '@') || n >= sizeof(sa->sun_path))
		return 0;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = 0; /* abstract namespace */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
}

int notify_send(const char *state)
{
	struct sockaddr_un sa;
	socklen_t len = notify_addr(&sa);
	int fd, rc = 0;

	if (len == 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		rc = -1;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int64_t notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	int64_t n, p;

	if (!usec || !str_to_i64(usec, 1, INT64_MAX, &n))
		return 0;
	if (pid && *pid && (!str_to_i64(pid, 1, INT64_MAX, &p) || p != (int64_t)getpid()))
		return 0;
	return n;
}
