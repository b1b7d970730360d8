package metrics

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// exportedPrefix renames a label a source already carries under a name the merge adds (Prometheus' own
// convention for target label clashes).
const exportedPrefix = "exported_"

// ErrMergeConflict reports a metric family (or one metric) of a source that could not be merged with what
// earlier sources contributed; the merge skipped it and went on.
var ErrMergeConflict = errors.New("metrics: merge conflict")

// Source is the metric families of one process and the labels that identify it (e.g. kind and process). Labels
// are added to every metric of Families; a metric that already has a label of that name keeps its value under
// "exported_<name>".
type Source struct {
	Name     string // for error messages
	Labels   map[string]string
	Families []*dto.MetricFamily
}

// ConflictError is one skipped family or metric.
type ConflictError struct {
	Source, Family, Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("metrics: family %s of %s skipped: %s", e.Family, e.Source, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMergeConflict) true.
func (e *ConflictError) Unwrap() error { return ErrMergeConflict }

// Merge labels every source's metrics and merges the families of the same name into one. The first source that
// has a family fixes its type and help: a later family of that name with another type or help is skipped (one
// *ConflictError each), as is a metric whose full label set another source already produced. The sources are not
// modified. Families come out sorted by name, metrics by their label values.
func Merge(srcs []Source) ([]*dto.MetricFamily, []error) {
	var errs []error
	byName := map[string]*dto.MetricFamily{}
	seen := map[string]map[string]struct{}{} // family -> label signatures
	for _, src := range srcs {
		names := sortedKeys(src.Labels)
		for _, f := range src.Families {
			name := f.GetName()
			if name == "" {
				errs = append(errs, &ConflictError{Source: src.Name, Family: "(unnamed)", Reason: "family has no name"})
				continue
			}
			out, ok := byName[name]
			if !ok {
				out = &dto.MetricFamily{Name: proto.String(name), Help: proto.String(f.GetHelp()), Type: f.GetType().Enum()}
				if f.Unit != nil {
					out.Unit = proto.String(f.GetUnit())
				}
				byName[name] = out
				seen[name] = map[string]struct{}{}
			} else if out.GetType() != f.GetType() {
				errs = append(errs, &ConflictError{Source: src.Name, Family: name,
					Reason: fmt.Sprintf("type %s differs from %s", f.GetType(), out.GetType())})
				continue
			} else if out.GetHelp() != f.GetHelp() {
				errs = append(errs, &ConflictError{Source: src.Name, Family: name,
					Reason: fmt.Sprintf("help %q differs from %q", f.GetHelp(), out.GetHelp())})
				continue
			}
			for _, m := range f.GetMetric() {
				lm := relabel(m, src.Labels, names)
				sig := signature(lm.GetLabel())
				if _, dup := seen[name][sig]; dup {
					errs = append(errs, &ConflictError{Source: src.Name, Family: name,
						Reason: "duplicate metric {" + sig + "}"})
					continue
				}
				seen[name][sig] = struct{}{}
				out.Metric = append(out.Metric, lm)
			}
		}
	}
	fams := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		sort.Slice(f.Metric, func(i, j int) bool {
			return signature(f.Metric[i].GetLabel()) < signature(f.Metric[j].GetLabel())
		})
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].GetName() < fams[j].GetName() })
	return fams, errs
}

// relabel returns a copy of m with the labels added (names sorted) and its label pairs sorted by name.
func relabel(m *dto.Metric, add map[string]string, names []string) *dto.Metric {
	c := proto.Clone(m).(*dto.Metric)
	if len(add) == 0 {
		return c
	}
	for _, lp := range c.Label {
		if _, clash := add[lp.GetName()]; clash {
			lp.Name = proto.String(exportedPrefix + lp.GetName())
		}
	}
	for _, n := range names {
		c.Label = append(c.Label, &dto.LabelPair{Name: proto.String(n), Value: proto.String(add[n])})
	}
	sort.Slice(c.Label, func(i, j int) bool { return c.Label[i].GetName() < c.Label[j].GetName() })
	return c
}

// signature is a metric's identity inside its family: its label pairs in order.
func signature(ls []*dto.LabelPair) string {
	var b strings.Builder
	for i, lp := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(lp.GetName())
		b.WriteString(`="`)
		b.WriteString(lp.GetValue())
		b.WriteByte('"')
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
