package posture

import "github.com/nsinspect/nsinspect/procinfo"

// ErrParse matches every error about text that did not parse; it is
// procinfo's, so one errors.Is covers both packages.
var ErrParse = procinfo.ErrParse
