/*
 * vs_posix.h: set-up of the POSIX port (port/posix/port_posix.c) by the host program:
 * where the NVM directory is and which serial line to use. The port functions themselves
 * are those of include/vs_port.h (storage, clock, transport).
 */
#ifndef VS_POSIX_H
#define VS_POSIX_H

/* The NVM directory (created when missing). 0 or -1. */
int vs_posix_storage_init(const char *dir);
/* Opens the serial line raw (termios: cfmakeraw, no echo, 115200), non-blocking reads. 0 or -1. */
int vs_posix_transport_open(const char *path);
void vs_posix_transport_close(void);
int vs_posix_transport_is_open(void);

#endif
