package clone

import (
	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
)

// matrixReports runs one experiment per set, in this process, in order.
func matrixReports(req Request, sets []flags.Set, mode string) ([]*report.Clone, error) {
	out := make([]*report.Clone, 0, len(sets))
	for _, s := range sets {
		one := req
		one.Flags = s
		rep, err := experimentReport(one, mode)
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}
