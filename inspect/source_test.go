package inspect

import (
	"testing"

	"github.com/nsinspect/nsinspect/discover"
)

// Discover and OpenSource read --source the same way: a name that is not
// a source is bad input before anything is scanned or loaded.
func TestSourceNames(t *testing.T) {
	if _, _, err := Discover("kernel", discover.Options{}); ClassOf(err) != BadInput {
		t.Errorf("Discover(kernel): %v (class %v), want bad input", err, ClassOf(err))
	}
	if _, _, _, err := OpenSource("kernel"); ClassOf(err) != BadInput {
		t.Errorf("OpenSource(kernel): %v (class %v), want bad input", err, ClassOf(err))
	}
	src, closeSrc, notes, err := OpenSource("proc")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSrc()
	if _, ok := src.(discover.Proc); !ok || len(notes) != 0 {
		t.Errorf("OpenSource(proc) = %T with notes %q, want discover.Proc and none", src, notes)
	}
}
