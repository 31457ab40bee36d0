/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux file layer: the socket and epoll calls of the I/O paths that never
 * block (file_pipe.c, io_loop.c), without glibc's cancellation points.
 * Apart from file.h: its includer defines WIN32_LEAN_AND_MEAN, or Wine's
 * <windows.h> brings <winsock.h>, which redefines the system's sockets.
 */
#ifndef KERNEL32_TP_LINUX_SYS_NOCANCEL_H
#define KERNEL32_TP_LINUX_SYS_NOCANCEL_H

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * glibc's wrappers of these are cancellation points: each call enables and
 * disables asynchronous cancellation around the system call, which showed
 * in the profile of a pipe echo (make bench IO1).  These calls never sleep
 * (MSG_DONTWAIT, a zero timeout), so they need no cancellation point;
 * syscall() is not one.  Same results as the wrappers: -1 with errno.
 * Sanitizer builds keep the wrappers, which the sanitizers intercept: ASan
 * checks the buffers, TSan orders a send before the receive that sees it.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define file_sys_send send
#define file_sys_recv recv
#define file_sys_recvmsg recvmsg
#define file_sys_epoll_poll(epfd, events, max) epoll_wait((epfd), (events), (max), 0)
#else
static inline ssize_t file_sys_send(int fd, const void *buf, size_t len, int flags)
{
    return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

static inline ssize_t file_sys_recv(int fd, void *buf, size_t len, int flags)
{
    return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline ssize_t file_sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
    return syscall(SYS_recvmsg, fd, msg, flags);
}

/* epoll_wait with a zero timeout (epoll_pwait: every architecture has it;
 * the last argument is the kernel's signal-set size). */
static inline int file_sys_epoll_poll(int epfd, struct epoll_event *events, int max)
{
    return (int)syscall(SYS_epoll_pwait, epfd, events, max, 0, NULL, (size_t)8);
}
#endif

#endif
