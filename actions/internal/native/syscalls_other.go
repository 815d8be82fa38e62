//go:build !amd64 && !arm64

package native

// syscallNames is empty where pmrun does not know the numbers: the
// watchdog's note gives the number.
var syscallNames = map[int]string{}
