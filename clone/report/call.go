package report

import (
	"fmt"
	"syscall"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/schema"
)

// Call is what an experiment asked of the kernel and whether the kernel
// refused it: the first keys of Clone's and Unshare's JSON.
type Call struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Flags         []string       `json:"flags"`
	Value         uint64         `json:"value"`
	ValueHex      string         `json:"value_hex"`
	Syscall       string         `json:"syscall"`
	Errno         *string        `json:"errno"`           // null, or the errno's name when the kernel refused the call
	Error         string         `json:"error,omitempty"` // the errno's text
	Explanation   []string       `json:"explanation,omitempty"`
	Mode          string         `json:"mode"` // "lab", "lab-userns" (a lab in a new user namespace) or "host"
}

// NewCall is a call of s by syscallName in mode, not yet made.
func NewCall(s flags.Set, syscallName, mode string) Call {
	return Call{Flags: s.Names(), Value: uint64(s), ValueHex: fmt.Sprintf("%#x", uint64(s)), Syscall: syscallName, Mode: mode}
}

// Refused records the errno the kernel returned and the rules of the
// manual that explain it.
func (c *Call) Refused(errno syscall.Errno, explanation []string) {
	name := flags.ErrnoName(errno)
	c.Errno, c.Error, c.Explanation = &name, errno.Error(), explanation
}
