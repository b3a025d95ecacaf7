package taskobj

import (
	"strings"
	"testing"
)

// Every object has its own name and a task_struct member, and All lists
// each once, in order.
func TestNames(t *testing.T) {
	seen := map[string]Object{}
	for i, o := range All() {
		if o != Object(i) {
			t.Errorf("All()[%d] = %d", i, o)
		}
		if o.Name() == "" || !strings.HasPrefix(o.Field(), "task->") {
			t.Errorf("object %d: name %q, field %q", o, o.Name(), o.Field())
		}
		if p, ok := seen[o.Name()]; ok {
			t.Errorf("objects %d and %d are both %q", p, o, o.Name())
		}
		seen[o.Name()] = o
	}
	if len(seen) != int(Count) {
		t.Errorf("%d names, want %d", len(seen), Count)
	}
}
