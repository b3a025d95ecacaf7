package namespaces

import "testing"

// FuzzParseType: a namespace type name parses to a Type whose Name()
// parses back to itself, or to an error; never a panic.
func FuzzParseType(f *testing.F) {
	for _, s := range []string{"net", "CLONE_NEWNET", "newnet", "mnt", "pid_for_children", "", "bogus", "NET"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseType(s)
		if err != nil {
			return
		}
		back, err := ParseType(typ.Name())
		if err != nil || back != typ {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, typ, typ.Name(), back, err)
		}
	})
}
