package verdict

// Verdict is whether two tasks share one resource. The zero value is
// Indeterminate: a verdict nobody decided is never "shared" by accident.
type Verdict uint8

const (
	Indeterminate Verdict = iota // the kernel's answer does not decide it (a note says why)
	Separate
	Shared
)

// Of reads the JSON form: nil is Indeterminate.
func Of(shared *bool) Verdict {
	switch {
	case shared == nil:
		return Indeterminate
	case *shared:
		return Shared
	}
	return Separate
}

// String is the word for reports and messages: "shared", "separate" or
// "indeterminate".
func (v Verdict) String() string {
	switch v {
	case Shared:
		return "shared"
	case Separate:
		return "separate"
	}
	return "indeterminate"
}

// YesNo is the word for a SHARED column: "yes", "no" or "?".
func (v Verdict) YesNo() string {
	switch v {
	case Shared:
		return "yes"
	case Separate:
		return "no"
	}
	return "?"
}

// Symbol is one character for a truth-table cell: "S", "." or "?".
func (v Verdict) Symbol() string {
	switch v {
	case Shared:
		return "S"
	case Separate:
		return "."
	}
	return "?"
}
