package native

// syscallNames name the system calls a thread is often found blocked in,
// by their numbers on arm64, for the watchdog's note.
var syscallNames = map[int]string{
	22: "epoll_pwait", 25: "fcntl", 32: "flock", 56: "openat", 63: "read", 64: "write", 65: "readv",
	67: "pread64", 72: "pselect6", 73: "ppoll", 95: "waitid", 98: "futex", 101: "nanosleep",
	115: "clock_nanosleep", 133: "rt_sigsuspend", 137: "rt_sigtimedwait", 188: "msgrcv", 192: "semtimedop",
	193: "semop", 202: "accept", 203: "connect", 206: "sendto", 207: "recvfrom", 211: "sendmsg",
	212: "recvmsg", 242: "accept4", 260: "wait4", 441: "epoll_pwait2",
}
