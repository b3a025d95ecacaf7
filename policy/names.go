package policy

import (
	"strconv"
	"strings"

	nsnames "github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/posture"
)

// engines are the values of Target.Engine.
var engines = []string{"docker", "podman", "runc", "containerd", "host"}

// nsLinks are the link names of /proc/PID/ns (namespaces(7)).
var nsLinks = func() []string {
	var out []string
	for _, l := range nsnames.Links {
		out = append(out, l.Name)
	}
	return out
}()

// capSets are the capability sets of /proc/PID/status, with the field
// that shows each (proc_pid_status(5)).
var capSets = map[string]string{
	"effective":   "CapEff",
	"permitted":   "CapPrm",
	"inheritable": "CapInh",
	"bounding":    "CapBnd",
	"ambient":     "CapAmb",
}

var capSetNames = []string{"effective", "permitted", "inheritable", "bounding", "ambient"}

// seccompModes are the Seccomp field's modes, as posture names them.
var seccompModes = []string{"disabled", "strict", "filter"}

// mountKinds are the kinds of posture.SensitiveMount.Kind.
var mountKinds = posture.SensitiveKinds

// capName gives the canonical name of a capability written with or
// without CAP_, in any case, or as CAP_<bit> (0-63: a bit newer than the
// table, as posture shows it); ok is false for anything else.
func capName(s string) (string, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "CAP_") {
		u = "CAP_" + u
	}
	if bit := posture.CapBit(u); bit >= 0 && !isDigits(u[len("CAP_"):]) {
		return posture.CapName(bit), true
	}
	digits := u[len("CAP_"):]
	bit, err := strconv.Atoi(digits)
	if err != nil || bit < 0 || bit > 63 || strconv.Itoa(bit) != digits {
		return "", false
	}
	return posture.CapName(bit), true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
