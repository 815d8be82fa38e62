/* pmrun point [--at FILE:LINE] NAME: the protocol of pmrun point, in C, as
 * a program in any language speaks it: connect to $PMRUN_POINT_SOCKET,
 * write "point $PMRUN_POINT_ID NAME\n" (with --at: "NAME\tFILE:LINE"),
 * read "go\n". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *sock = getenv("PMRUN_POINT_SOCKET"), *id = getenv("PMRUN_POINT_ID");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char line[512];
	int fd, n, len;

	const char *name, *at = NULL;

	if (argc == 5 && strcmp(argv[1], "point") == 0 && strcmp(argv[2], "--at") == 0)
		at = argv[3], name = argv[4];
	else if (argc == 3 && strcmp(argv[1], "point") == 0)
		name = argv[2];
	else
		return 2;
	if (sock == NULL || *sock == 0)
		return 0;
	strncpy(addr.sun_path, sock, sizeof addr.sun_path - 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
		return 1;
	len = snprintf(line, sizeof line, "point %s %s%s%s\n", id ? id : "", name, at ? "\t" : "", at ? at : "");
	if (write(fd, line, len) != len)
		return 1;
	for (len = 0; len < (int)sizeof line - 1; len += n) {
		n = read(fd, line + len, sizeof line - 1 - len);
		if (n <= 0)
			break;
		if (memchr(line + len, '\n', n) != NULL) {
			len += n;
			break;
		}
	}
	line[len] = 0;
	if (strcmp(line, "go\n") == 0)
		return 0;
	fprintf(stderr, "point %s: %s", name, line);
	return 1;
}
