package inspect

import (
	"runtime"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/version"
	"github.com/nsinspect/nsinspect/schema"
)

// Features is `features --json`: which nsinspect, on which kernel, and
// which of the kernel interfaces it probes this kernel has.
type Features struct {
	SchemaVersion schema.Version    `json:"schema_version"`
	Nsinspect     version.Info      `json:"nsinspect"` // which nsinspect: version, where it came from, Go, platform
	Kernel        features.Uname    `json:"kernel"`
	GOARCH        string            `json:"goarch"`
	Cgo           bool              `json:"cgo"` // clone experiments need the C child
	Features      []features.Result `json:"features"`
}

// FeaturesOf probes this kernel; cgo says whether this binary has the C
// child that clone experiments need.
func FeaturesOf(cgo bool) Features {
	return Features{Nsinspect: version.Get(), Kernel: features.Kernel(), GOARCH: runtime.GOARCH, Cgo: cgo, Features: features.All()}
}
