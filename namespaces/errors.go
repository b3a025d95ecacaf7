package namespaces

import "errors"

// ErrUnknownType is returned for a namespace type nsinspect does not know.
var ErrUnknownType = errors.New("unknown namespace type")
