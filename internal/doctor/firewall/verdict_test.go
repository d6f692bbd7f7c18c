package firewall

import (
	"reflect"
	"testing"
)

// The verdicts the tables expect: one chain that drops, may drop or
// accepts the advert, or chains that do neither.
func dropped(by, fix string) Verdict { return Verdict{Drops: []Drop{{By: by, Fix: fix}}, Chains: 1} }
func mayDrop(by string) Verdict      { return Verdict{Maybe: []string{by}, Chains: 1} }
func accepted(by string) Verdict     { return Verdict{Accepted: []string{by}, Chains: 1} }
func clean(chains int) Verdict       { return Verdict{Chains: chains} }

func wantVerdict(t *testing.T, got, want Verdict) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("verdict\n got %+v\nwant %+v", got, want)
	}
}
