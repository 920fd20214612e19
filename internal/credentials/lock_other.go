//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package credentials

import "os"

// tryLock does nothing on the systems movitera is not built for, which may
// lack flock: there, only the in-process mutex guards the file.
func tryLock(*os.File) error { return nil }

func unlock(*os.File) {}
