package clone

import (
	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/nsichild"
)

// matrixReports runs one experiment per set, in order, each parent forked
// by z and each experiment reaped before the next.
func matrixReports(req Request, sets []flags.Set, mode string, z *nsichild.Zygote) ([]*report.Clone, error) {
	out := make([]*report.Clone, 0, len(sets))
	for _, s := range sets {
		one := req
		one.Flags = s
		rep, err := experimentReport(one, mode, z)
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}
