package preload

import "fmt"

// The operations of a request (c/pmrun_ctl.h's PMRUN_OP_*). Up to
// LastNote they are notes, answered at once; from OpStart they are
// points, where the thread waits until pmrun chooses it.
const (
	OpExec     = 1
	OpForked   = 2
	OpCreated  = 3
	OpInit     = 4
	OpDestroy  = 5
	OpSemOpen  = 6
	OpSemClose = 7
	OpAssert   = 8
	OpEnd      = 9
	OpSetName  = 10
	LastNote   = 15

	OpStart         = 16
	OpCreate        = 17
	OpJoin          = 18
	OpFork          = 19
	OpWaitpid       = 20
	OpMutexLock     = 21
	OpMutexTrylock  = 22
	OpMutexUnlock   = 23
	OpCondWait      = 24
	OpCondReacq     = 25
	OpCondSignal    = 26
	OpCondBroadcast = 27
	OpSemWait       = 28
	OpSemTrywait    = 29
	OpSemPost       = 30
	OpRWRdlock      = 31
	OpRWWrlock      = 32
	OpRWTryrdlock   = 33
	OpRWTrywrlock   = 34
	OpRWUnlock      = 35
	OpSpinLock      = 36
	OpSpinTrylock   = 37
	OpSpinUnlock    = 38
	OpBarrierWait   = 39
	OpBarrierLeave  = 40
	OpYield         = 41
	OpSleep         = 42
	OpPoint         = 43
	OpExit          = 44
)

// Flags of a request.
const (
	FlagShared = 1 // the object is process-shared
	FlagTimed  = 2 // the call may time out
)

// Object kinds, of OpInit and OpDestroy.
const (
	KindMutex   = 1
	KindCond    = 2
	KindSem     = 3
	KindRWLock  = 4
	KindSpin    = 5
	KindBarrier = 6
)

// opNames are the operations' names, PMRUN_OP_NAME in lower case.
var opNames = map[int]string{
	OpExec: "exec", OpForked: "forked", OpCreated: "created", OpInit: "init", OpDestroy: "destroy",
	OpSemOpen: "sem_open", OpSemClose: "sem_close", OpAssert: "assert", OpEnd: "end", OpSetName: "name",
	OpStart: "start", OpCreate: "create", OpJoin: "join", OpFork: "fork", OpWaitpid: "waitpid",
	OpMutexLock: "mutex_lock", OpMutexTrylock: "mutex_trylock", OpMutexUnlock: "mutex_unlock",
	OpCondWait: "cond_wait", OpCondReacq: "cond_reacq", OpCondSignal: "cond_signal", OpCondBroadcast: "cond_broadcast",
	OpSemWait: "sem_wait", OpSemTrywait: "sem_trywait", OpSemPost: "sem_post",
	OpRWRdlock: "rw_rdlock", OpRWWrlock: "rw_wrlock", OpRWTryrdlock: "rw_tryrdlock", OpRWTrywrlock: "rw_trywrlock", OpRWUnlock: "rw_unlock",
	OpSpinLock: "spin_lock", OpSpinTrylock: "spin_trylock", OpSpinUnlock: "spin_unlock",
	OpBarrierWait: "barrier_wait", OpBarrierLeave: "barrier_leave",
	OpYield: "yield", OpSleep: "sleep", OpPoint: "point", OpExit: "exit",
}

// OpName is op's name ("mutex_lock"), or "op N" for one this pmrun does
// not know.
func OpName(op int) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("op %d", op)
}
