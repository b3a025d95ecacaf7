package clone

// Restriction is one clone(2) rule under which a flag makes the call
// fail: the errno and why.
type Restriction struct {
	Errno string `json:"errno"`
	Why   string `json:"why"`
}

// Restrictions lists the rules of the errno table that adding flag to a
// call can break, alone or together with one other flag. It is read from
// the same table Explain uses, so the two cannot disagree.
func Restrictions(flag uint64) []Restriction {
	var out []Restriction
	for _, r := range rules {
		if breaks(r, flag) {
			out = append(out, Restriction{Errno: errnoName(r.errno), Why: r.text})
		}
	}
	return out
}

// breaks reports whether some call of at most one other flag satisfies r
// only once flag is added.
func breaks(r rule, flag uint64) bool {
	if r.applies(FlagSet(flag)) {
		return true
	}
	for _, f := range Flags {
		if r.applies(FlagSet(f.Value|flag)) && !r.applies(FlagSet(f.Value)) {
			return true
		}
	}
	return false
}
