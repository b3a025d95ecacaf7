package model

import (
	"testing"

	"github.com/nsinspect/nsinspect/namespaces"
)

// The two lsns(8) columns the model derives: NETNSID and PATH.
func TestLsnsColumns(t *testing.T) {
	for _, c := range []struct {
		ns            Namespace
		netnsid, path string
	}{
		{Namespace{NS: namespaces.NS{Type: namespaces.Net}, NetNSID: 7, NProcs: 2, PID: 42}, "7", "/proc/42/ns/net"},
		{Namespace{NS: namespaces.NS{Type: namespaces.Net}, NetNSID: 0}, "0", ""},
		{Namespace{NS: namespaces.NS{Type: namespaces.Net}, NetNSID: NetNSIDUnassigned}, "unassigned", ""},
		{Namespace{NS: namespaces.NS{Type: namespaces.Net}, NetNSID: NetNSIDUnknown}, "", ""},
		{Namespace{NS: namespaces.NS{Type: namespaces.Mount}, NetNSID: NetNSIDUnassigned, NProcs: 1, PID: 1}, "", "/proc/1/ns/mnt"},
		{Namespace{NS: namespaces.NS{Type: namespaces.Time}, NetNSID: NetNSIDUnknown, NProcs: 1, PID: 9}, "", "/proc/9/ns/time"},
	} {
		if got := c.ns.NetNSIDText(); got != c.netnsid {
			t.Errorf("%s netnsid %d: NetNSIDText %q, want %q", c.ns.Type.Name(), c.ns.NetNSID, got, c.netnsid)
		}
		if got := c.ns.ProcPath(); got != c.path {
			t.Errorf("%s nprocs %d pid %d: ProcPath %q, want %q", c.ns.Type.Name(), c.ns.NProcs, c.ns.PID, got, c.path)
		}
	}
}
