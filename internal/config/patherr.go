package config

import (
	"errors"
	"io/fs"
)

// WithoutPath is err without the operation and path of its *fs.PathError,
// for a message that names path already ("cannot read X: permission
// denied", not "cannot read X: open X: permission denied"). An error about
// another path (a parent directory, say) keeps its path.
func WithoutPath(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err
	}
	return err
}
