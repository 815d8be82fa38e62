package native

// syscallNames name the system calls a thread is often found blocked in,
// by their numbers on amd64, for the watchdog's note.
var syscallNames = map[int]string{
	0: "read", 1: "write", 2: "open", 7: "poll", 17: "pread64", 19: "readv", 23: "select", 34: "pause",
	35: "nanosleep", 42: "connect", 43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg",
	61: "wait4", 65: "semop", 70: "msgrcv", 72: "fcntl", 73: "flock", 128: "rt_sigtimedwait",
	130: "rt_sigsuspend", 202: "futex", 208: "io_getevents", 220: "semtimedop", 230: "clock_nanosleep",
	232: "epoll_wait", 247: "waitid", 257: "openat", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
	288: "accept4", 441: "epoll_pwait2",
}
