/*
 * listen: the FastCGI listening socket, opened once by the master and inherited by every worker.
 * Either our own (a unix socket path, mode 0660, or HOST:PORT), the one systemd passed (socket
 * activation, fd 3), the one a web server handed us as fd 0 (lighttpd bin-path, spawn-fcgi), or
 * the one a restart in place kept open (the master ran its program again in its own process).
 * The master never closes it while running.
 */
#ifndef NEXTID_LISTEN_H
#define NEXTID_LISTEN_H

/* True when fd 0 is a listening socket, i.e. a web server spawned us. */
int listen_inherited(void);

/* The socket systemd passed (socket activation: LISTEN_PID is us and LISTEN_FDS >= 1), that is
 * fd 3, or -1 when there is none. Clears the variables so that no child takes them as its own. */
int listen_systemd(void);

/* The socket a restart in place kept open across execve (NEXTID_LISTEN_FD names its fd), or -1
 * when there is none (or it is not a listening socket: logged). Clears the variable and marks
 * the fd close-on-exec again. Checked before every other source: the socket stays the same. */
int listen_kept(void);

/* Before the master runs its program again: leave fd open across execve and name it in
 * NEXTID_LISTEN_FD. Returns 0, or -1 (errno set). listen_unkeep() undoes it when execve failed. */
int listen_keep(int fd);
void listen_unkeep(int fd);

/* Open `address` (a path starting with '/', or HOST:PORT). Returns the fd, or -1 (logged). */
int listen_open(const char *address);

#endif
