package soak

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	clock := func() time.Time { return time.Unix(0, 42) }
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

	s, err := FromEnv(env(nil), clock)
	if err != nil || s.Duration != 3*time.Minute || s.Seed != DefaultSeed || !slices.Equal(s.Kinds, Kinds) || s.Steps != 0 {
		t.Errorf("defaults: %+v, %v", s, err)
	}
	s, err = FromEnv(env(map[string]string{EnvDuration: "30m", EnvSeed: "random", EnvFaults: "-drill", EnvSteps: "12"}), clock)
	if err != nil || s.Duration != 30*time.Minute || s.Seed != 42 || slices.Contains(s.Kinds, Drill) || len(s.Kinds) != len(Kinds)-1 || s.Steps != 12 {
		t.Errorf("set: %+v, %v", s, err)
	}
	for _, bad := range []map[string]string{
		{EnvDuration: "forever"}, {EnvDuration: "-1m"}, {EnvDuration: "48h"},
		{EnvSeed: "-3"}, {EnvFaults: "nap"}, {EnvSteps: "some"},
	} {
		if _, err := FromEnv(env(bad), clock); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// The replay line reproduces the run up to the fault.
	s.Kinds = []Kind{Kill, Drill}
	r := s.Replay(9)
	for _, want := range []string{"LVSD_SOAK_SEED=42", "LVSD_SOAK_FAULTS=kill,drill", "LVSD_SOAK_STEPS=9"} {
		if !strings.Contains(r, want) {
			t.Errorf("replay %q lacks %q", r, want)
		}
	}
	back, err := FromEnv(func(k string) string {
		for _, f := range strings.Fields(r) {
			if v, ok := strings.CutPrefix(f, k+"="); ok {
				return v
			}
		}
		return ""
	}, clock)
	if err != nil || back.Seed != 42 || !slices.Equal(back.Kinds, s.Kinds) || back.Steps != 9 {
		t.Errorf("replay %q reads back as %+v, %v", r, back, err)
	}
}
