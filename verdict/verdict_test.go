package verdict

import (
	"fmt"
	"testing"
)

func TestWords(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		in                  *bool
		want                Verdict
		word, yesNo, symbol string
	}{
		{&yes, Shared, "shared", "yes", "S"},
		{&no, Separate, "separate", "no", "."},
		{nil, Indeterminate, "indeterminate", "?", "?"},
	} {
		v := Of(c.in)
		if v != c.want || v.String() != c.word || v.YesNo() != c.yesNo || v.Symbol() != c.symbol {
			t.Errorf("Of(%v) = %v (%q %q %q), want %v (%q %q %q)", c.in, v, v.String(), v.YesNo(), v.Symbol(), c.want, c.word, c.yesNo, c.symbol)
		}
	}
	var zero Verdict
	if zero != Indeterminate {
		t.Errorf("the zero Verdict is %v, want indeterminate", zero)
	}
}

func ExampleOf() {
	shared := true
	fmt.Println(Of(&shared), Of(nil).YesNo(), Of(&shared).Symbol())
	// Output: shared ? S
}
