package conf

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"
)

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "global"},
		{Type: "vrrp", LabelNames: []string{"name"}},
		{Type: "track_script", LabelNames: []string{"name"}},
		{Type: "sync_group", LabelNames: []string{"name"}},
		{Type: "connection_sync"},
		{Type: "virtual_server", LabelNames: []string{"name"}},
	},
}

// file decodes the whole file: each block on its own, then the references
// between blocks, then what only this host can tell.
func (d *decoder) file(body hcl.Body, host Host) *Config {
	_, blocks := d.content(body, fileSchema)
	cfg := &Config{}
	names := map[string]map[string]hcl.Range{}
	var (
		instances []*instanceSrc
		scripts   = map[string]bool{}
		groups    []*syncGroupSrc
		csync     *connSyncSrc
		services  []*serviceSrc
		global    bool
	)
	for _, b := range blocks {
		if len(b.Labels) == 1 && !d.uniqueName(names, b) {
			continue
		}
		switch b.Type {
		case "global":
			if global {
				d.errorf(b.DefRange, "Duplicate global block", "only one global block is allowed; merge the two")
				continue
			}
			global = true
			cfg.Global = d.global(b, host)
		case "vrrp":
			instances = append(instances, d.instance(b))
		case "track_script":
			cfg.TrackScripts = append(cfg.TrackScripts, d.trackScript(b))
			scripts[b.Labels[0]] = true
		case "sync_group":
			groups = append(groups, d.syncGroup(b))
		case "connection_sync":
			if csync != nil {
				d.errorf(b.DefRange, "Duplicate connection_sync block", "only one connection_sync block is allowed")
				continue
			}
			csync = d.connectionSync(b)
		case "virtual_server":
			services = append(services, d.virtualServer(b))
		}
	}
	if !global {
		cfg.Global = d.global(nil, host)
	}

	byName := map[string]*instanceSrc{}
	for _, in := range instances {
		byName[in.cfg.Name] = in
		cfg.Instances = append(cfg.Instances, in.cfg)
	}
	d.uniqueVRIDs(instances)
	for _, in := range instances {
		d.trackScriptRefs(in, scripts)
	}
	for _, g := range groups {
		d.syncGroupRefs(g, byName, groups)
		cfg.SyncGroups = append(cfg.SyncGroups, g.cfg)
	}
	if csync != nil {
		d.connSyncRefs(csync, byName)
		cfg.ConnectionSync = &csync.cfg
	}
	d.uniqueServices(services)
	for _, s := range services {
		cfg.VirtualServers = append(cfg.VirtualServers, s.cfg)
	}
	d.hostChecks(host, instances)
	return cfg
}

// uniqueName records a labelled block's name, reporting a second block of
// the same type and name.
func (d *decoder) uniqueName(names map[string]map[string]hcl.Range, b *hcl.Block) bool {
	seen := names[b.Type]
	if seen == nil {
		seen = map[string]hcl.Range{}
		names[b.Type] = seen
	}
	name := b.Labels[0]
	if name == "" {
		d.errorf(b.LabelRanges[0], "Empty "+b.Type+" name", "give the block a name")
		return false
	}
	if first, dup := seen[name]; dup {
		d.errorf(b.LabelRanges[0], "Duplicate "+b.Type+" "+quote(name),
			"a %s named %q is already defined at %s", b.Type, name, at(first))
		return false
	}
	seen[name] = b.LabelRanges[0]
	return true
}

func quote(s string) string { return `"` + s + `"` }

// at names a position the way diagnostics do: FILE:LINE,COL.
func at(r hcl.Range) string {
	return r.Filename + ":" + itoa(r.Start.Line) + "," + itoa(r.Start.Column)
}

func itoa(n int) string { return strconv.Itoa(n) }
