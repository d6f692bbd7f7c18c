package conf

// hostChecks warns about what the file names but this machine lacks:
// interfaces and programs. `check` validates the file, so these are
// warnings there; `run` refuses to start on them.
func (d *decoder) hostChecks(host Host) {
	for _, in := range d.interfaces {
		if !host.HasInterface(in.value) {
			d.hostWarnf(in.rng, "No interface "+quote(in.value)+" on this host", "lvsd run would refuse to start; check the name with `ip link`")
		}
	}
	for _, p := range d.programs {
		if err := host.Executable(p.value); err != nil {
			d.hostWarnf(p.rng, "Cannot run "+quote(p.value)+" on this host", "%s", err)
		}
	}
}
