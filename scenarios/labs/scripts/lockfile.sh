#!/bin/bash
# lockfile.sh NAME: take the lock file "lock" of the current folder, do
# the work it guards, let it go; a process that finds it taken gives up.
#
# The broken way tests for the file, then writes it: two steps, so two
# processes can both find it free and both write it; one of them then
# finds the lock it took gone or holding the other's name, and says so
# (exit 1). FIXED=1 takes the lock with
# mkdir, which tests and takes in one step: only one process can.
#
# point NAME stops here until pmrun lets this process go on, and tells
# pmrun the line it was called from ($LINENO is bash's; without pmrun it
# does nothing).
point() { pmrun point --at "$0:${BASH_LINENO[0]}" "$1"; }

name=$1

broken() {
	point check
	if [ -e lock ]; then
		echo "$name: the lock was busy"
		return 0
	fi
	point take
	echo "$name" > lock
	point inside
	if [ ! -e lock ]; then
		echo "$name lost the lock it took: another process removed it" >&2
		return 1
	fi
	owner=$(cat lock)
	if [ "$owner" != "$name" ]; then
		echo "$name lost the lock it took: it holds $owner's name" >&2
		return 1
	fi
	echo "$name: took the lock"
	rm -f lock
}

fixed() {
	point take
	if ! mkdir lock 2>/dev/null; then
		echo "$name: the lock was busy"
		return 0
	fi
	echo "$name" > lock/owner
	point inside
	owner=$(cat lock/owner 2>/dev/null)
	if [ "$owner" != "$name" ]; then
		echo "$name lost the lock it took: it holds ${owner:-no} name" >&2
		return 1
	fi
	echo "$name: took the lock"
	rm -r lock
}

if [ -n "$FIXED" ]; then
	fixed
else
	broken
fi
