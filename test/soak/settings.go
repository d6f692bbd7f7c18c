package soak

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The environment of a run (see the package doc).
const (
	EnvDuration = "LVSD_SOAK_DURATION"
	EnvSeed     = "LVSD_SOAK_SEED"
	EnvFaults   = "LVSD_SOAK_FAULTS"
	EnvSteps    = "LVSD_SOAK_STEPS"
)

// DefaultSeed is the seed of `make test`: the same schedule every run.
const DefaultSeed = 1

// Settings are a run's length, seed and fault kinds.
type Settings struct {
	Duration time.Duration
	Seed     uint64
	Kinds    []Kind
	Steps    int // stop after this many faults; 0: only the duration
}

// maxDuration bounds a run: a typo must not hold the lab for a day.
const maxDuration = 24 * time.Hour

// FromEnv reads the settings from getenv (os.Getenv); clock seeds a
// "random" run.
func FromEnv(getenv func(string) string, clock func() time.Time) (Settings, error) {
	s := Settings{Duration: 3 * time.Minute, Seed: DefaultSeed}
	if v := getenv(EnvDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxDuration {
			return s, fmt.Errorf("%s=%q: want a duration in (0, %s]", EnvDuration, v, maxDuration)
		}
		s.Duration = d
	}
	switch v := strings.TrimSpace(getenv(EnvSeed)); v {
	case "":
	case "random":
		s.Seed = uint64(clock().UnixNano())
	default:
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s=%q: want an unsigned integer or \"random\"", EnvSeed, v)
		}
		s.Seed = seed
	}
	kinds, err := ParseKinds(getenv(EnvFaults))
	if err != nil {
		return s, fmt.Errorf("%s: %w", EnvFaults, err)
	}
	s.Kinds = kinds
	if v := getenv(EnvSteps); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("%s=%q: want a count", EnvSteps, v)
		}
		s.Steps = n
	}
	return s, nil
}

// Replay is the environment that replays the run up to fault seq.
func (s Settings) Replay(seq int) string {
	kinds := make([]string, len(s.Kinds))
	for i, k := range s.Kinds {
		kinds[i] = string(k)
	}
	return fmt.Sprintf("%s=%d %s=%s %s=%d %s=%s", EnvSeed, s.Seed, EnvFaults, strings.Join(kinds, ","), EnvSteps, seq, EnvDuration, maxDuration)
}
