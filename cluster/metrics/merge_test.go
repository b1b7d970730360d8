package metrics

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

func fam(name, help string, typ dto.MetricType, metrics ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: typ.Enum(), Metric: metrics}
}

func counter(v float64, labels ...string) *dto.Metric {
	m := &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(v)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return m
}

func gauge(v float64) *dto.Metric { return &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}} }

// render is a compact text of families: name{labels} value per metric.
func render(fams []*dto.MetricFamily) string {
	var b strings.Builder
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			b.WriteString(f.GetName() + "{" + signature(m.GetLabel()) + "} ")
			switch {
			case m.Counter != nil:
				fmt.Fprintf(&b, "value:%g", m.Counter.GetValue())
			case m.Gauge != nil:
				fmt.Fprintf(&b, "value:%g", m.Gauge.GetValue())
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestMerge(t *testing.T) {
	w0 := map[string]string{"kind": "worker", "process": "worker-0"}
	w1 := map[string]string{"kind": "worker", "process": "worker-1"}
	tests := []struct {
		name      string
		srcs      []Source
		want      []string // lines of render, in order
		conflicts []string // substrings of the errors, in order
	}{
		{
			name: "same family from two processes is merged and labelled",
			srcs: []Source{
				{Name: "worker-1", Labels: w1, Families: []*dto.MetricFamily{fam("m_total", "h", dto.MetricType_COUNTER, counter(2))}},
				{Name: "worker-0", Labels: w0, Families: []*dto.MetricFamily{fam("m_total", "h", dto.MetricType_COUNTER, counter(1))}},
			},
			want: []string{
				`m_total{kind="worker",process="worker-0"} value:1`,
				`m_total{kind="worker",process="worker-1"} value:2`,
			},
		},
		{
			name: "families are sorted by name and labels stay sorted",
			srcs: []Source{{Name: "worker-0", Labels: w0, Families: []*dto.MetricFamily{
				fam("z", "h", dto.MetricType_GAUGE, gauge(1)),
				fam("a_total", "h", dto.MetricType_COUNTER, counter(3, "transport", "polling")),
			}}},
			want: []string{
				`a_total{kind="worker",process="worker-0",transport="polling"} value:3`,
				`z{kind="worker",process="worker-0"} value:1`,
			},
		},
		{
			name: "an existing label of an added name is kept as exported_",
			srcs: []Source{{Name: "worker-0", Labels: w0, Families: []*dto.MetricFamily{
				fam("m_total", "h", dto.MetricType_COUNTER, counter(1, "process", "inner")),
			}}},
			want: []string{`m_total{exported_process="inner",kind="worker",process="worker-0"} value:1`},
		},
		{
			name: "conflicting type: the later family is skipped with a reason",
			srcs: []Source{
				{Name: "worker-0", Labels: w0, Families: []*dto.MetricFamily{fam("m", "h", dto.MetricType_COUNTER, counter(1))}},
				{Name: "worker-1", Labels: w1, Families: []*dto.MetricFamily{fam("m", "h", dto.MetricType_GAUGE, gauge(5))}},
			},
			want:      []string{`m{kind="worker",process="worker-0"} value:1`},
			conflicts: []string{"family m of worker-1 skipped: type GAUGE differs from COUNTER"},
		},
		{
			name: "conflicting help: the later family is skipped with a reason",
			srcs: []Source{
				{Name: "worker-0", Labels: w0, Families: []*dto.MetricFamily{fam("m", "one", dto.MetricType_COUNTER, counter(1))}},
				{Name: "worker-1", Labels: w1, Families: []*dto.MetricFamily{fam("m", "two", dto.MetricType_COUNTER, counter(2))}},
			},
			want:      []string{`m{kind="worker",process="worker-0"} value:1`},
			conflicts: []string{`family m of worker-1 skipped: help "two" differs from "one"`},
		},
		{
			name: "the same label set from two sources: the second metric is skipped",
			srcs: []Source{
				{Name: "a", Labels: w0, Families: []*dto.MetricFamily{fam("m", "h", dto.MetricType_COUNTER, counter(1))}},
				{Name: "b", Labels: w0, Families: []*dto.MetricFamily{fam("m", "h", dto.MetricType_COUNTER, counter(2))}},
			},
			want:      []string{`m{kind="worker",process="worker-0"} value:1`},
			conflicts: []string{`family m of b skipped: duplicate metric {kind="worker",process="worker-0"}`},
		},
		{
			name:      "an unnamed family is refused",
			srcs:      []Source{{Name: "a", Families: []*dto.MetricFamily{{Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{gauge(1)}}}}},
			conflicts: []string{"family has no name"},
		},
		{
			name: "a source without labels is passed through",
			srcs: []Source{{Name: "master", Families: []*dto.MetricFamily{fam("up", "h", dto.MetricType_GAUGE, gauge(1))}}},
			want: []string{`up{} value:1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := Merge(tt.srcs)
			want := strings.Join(tt.want, "\n")
			if len(tt.want) > 0 {
				want += "\n"
			}
			if r := render(got); r != want {
				t.Errorf("merged:\n%s\nwant:\n%s", r, want)
			}
			if len(errs) != len(tt.conflicts) {
				t.Fatalf("errors %v, want %d", errs, len(tt.conflicts))
			}
			for i, e := range errs {
				if !errors.Is(e, ErrMergeConflict) || !strings.Contains(e.Error(), tt.conflicts[i]) {
					t.Errorf("error %d = %v, want ErrMergeConflict with %q", i, e, tt.conflicts[i])
				}
			}
		})
	}
}

func TestMergeLeavesSourcesUnchanged(t *testing.T) {
	f := fam("m_total", "h", dto.MetricType_COUNTER, counter(1, "a", "b"))
	Merge([]Source{{Name: "x", Labels: map[string]string{"a": "z", "kind": "k"}, Families: []*dto.MetricFamily{f}}})
	if got := signature(f.Metric[0].Label); got != `a="b"` {
		t.Fatalf("source metric changed to {%s}", got)
	}
}
