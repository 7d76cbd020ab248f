/*
 * listen: the FastCGI listening socket, opened once by the master and inherited by every worker.
 * Either our own (a unix socket path, mode 0660, or HOST:PORT), the one systemd passed (socket
 * activation, fd 3), or the one a web server handed us as fd 0 (lighttpd bin-path, spawn-fcgi).
 * The master never closes it while running.
 */
#ifndef NEXTID_LISTEN_H
#define NEXTID_LISTEN_H

/* True when fd 0 is a listening socket, i.e. a web server spawned us. */
int listen_inherited(void);

/* The socket systemd passed (socket activation: LISTEN_PID is us and LISTEN_FDS >= 1), that is
 * fd 3, or -1 when there is none. Clears the variables so that no child takes them as its own. */
int listen_systemd(void);

/* Open `address` (a path starting with '/', or HOST:PORT). Returns the fd, or -1 (logged). */
int listen_open(const char *address);

#endif
