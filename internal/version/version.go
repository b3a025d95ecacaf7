// Package version says which nsinspect this is, for `nsinspect
// --version`, `features` and serve's nsinspect_build_info.
//
// A build through the Makefile stamps the output of `git describe --tags
// --always --dirty` into the binary (-ldflags -X, see stamp). Without a
// stamp the version is what the Go toolchain recorded
// (runtime/debug.ReadBuildInfo): the module version when it is one (a tag
// installed with go install, or the pseudo-version go build derives from
// the VCS), else the VCS revision and whether the tree was modified.
// `go run` and builds with -buildvcs=false record neither; the version is
// then "devel", and String says why and how to get a stamped one rather
// than Go's bare "(devel)".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// stamp is set at link time:
//
//	go build -ldflags "-X github.com/nsinspect/nsinspect/internal/version.stamp=$(git describe --tags --always --dirty)"
var stamp string

// Where a version came from.
const (
	FromStamp  = "git describe" // the Makefile's -ldflags -X
	FromModule = "module"       // the module version Go recorded
	FromVCS    = "vcs"          // the VCS revision Go recorded
	FromNone   = "none"         // nothing recorded: go run, -buildvcs=false
)

// Info is which nsinspect this is.
type Info struct {
	Version   string `json:"version"` // "v1.2.0-3-gabcdef0-dirty", "abcdef012345+dirty", "devel"
	Source    string `json:"source"`  // FromStamp, FromModule, FromVCS or FromNone
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"` // the tree had uncommitted changes (vcs.modified)
	GoVersion string `json:"go"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// Get returns this binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return from(stamp, bi)
}

// from decides the version from a stamp and what the toolchain recorded
// (bi may be nil: a binary built without module support).
func from(stamp string, bi *debug.BuildInfo) Info {
	i := Info{Version: "devel", Source: FromNone, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	switch {
	case stamp != "":
		i.Version, i.Source = stamp, FromStamp
	case bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		i.Version, i.Source = bi.Main.Version, FromModule
	case i.Revision != "":
		i.Version, i.Source = short(i.Revision), FromVCS
		if i.Modified {
			i.Version += "+dirty"
		}
	}
	return i
}

// short is a revision cut to 12 characters, as go build's pseudo-versions
// cut it.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// String is the line `nsinspect --version` prints after "nsinspect ".
func (i Info) String() string {
	if i.Source == FromNone {
		return fmt.Sprintf("%s (no version recorded: built by go run or without VCS information; 'make build' stamps git describe) %s %s", i.Version, i.GoVersion, i.Platform)
	}
	return fmt.Sprintf("%s (%s) %s %s", i.Version, i.Source, i.GoVersion, i.Platform)
}
