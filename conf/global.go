package conf

import (
	"log/slog"
	"math"
	"net"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var globalSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "router_id"}, {Name: "control_socket"}, {Name: "metrics_listen"},
		{Name: "script_user"}, {Name: "log_level"}, {Name: "log_format"}, {Name: "flush_on_stop"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "ipvs_timeouts"}},
}

var timeoutsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "tcp"}, {Name: "tcp_fin"}, {Name: "udp"}},
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// global decodes the global block; b is nil when the file has none, and
// then only the defaults apply.
func (d *decoder) global(b *hcl.Block, host Host) Global {
	g := Global{
		RouterID:      host.Hostname(),
		ControlSocket: DefaultControlSocket,
		ScriptUser:    DefaultScriptUser,
		LogLevel:      slog.LevelInfo,
		LogFormat:     LogText,
	}
	if b == nil {
		return g
	}
	a, blocks := d.content(b.Body, globalSchema)
	a.str("router_id", &g.RouterID)
	a.str("control_socket", &g.ControlSocket)
	a.str("script_user", &g.ScriptUser)
	a.boolean("flush_on_stop", &g.FlushOnStop)
	if a.str("metrics_listen", &g.MetricsListen) {
		if _, _, err := net.SplitHostPort(g.MetricsListen); err != nil {
			d.errorf(a.rng("metrics_listen"), "Invalid metrics_listen", "%q is not host:port, like \"127.0.0.1:9560\"", g.MetricsListen)
		}
	}
	var level string
	if a.oneOf("log_level", &level, "debug", "info", "warn", "error") {
		g.LogLevel = logLevels[level]
	}
	var format string
	if a.oneOf("log_format", &format, string(LogText), string(LogJSON)) {
		g.LogFormat = LogFormat(format)
	}
	seen := false
	for _, tb := range blocks {
		if seen {
			d.errorf(tb.DefRange, "Duplicate ipvs_timeouts block", "only one ipvs_timeouts block is allowed")
			continue
		}
		seen = true
		t, _ := d.content(tb.Body, timeoutsSchema)
		// The kernel keeps these in whole seconds; 0 leaves its value.
		t.duration("tcp", time.Second, math.MaxInt32*time.Second, &g.IPVSTimeouts.TCP)
		t.duration("tcp_fin", time.Second, math.MaxInt32*time.Second, &g.IPVSTimeouts.TCPFin)
		t.duration("udp", time.Second, math.MaxInt32*time.Second, &g.IPVSTimeouts.UDP)
	}
	return g
}
