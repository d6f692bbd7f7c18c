package control

// The protocol: the client sends one JSON request line, the daemon
// answers one JSON reply line and closes the connection.

// Commands of the protocol.
const (
	CmdStatus = "status"
	CmdReload = "reload"
	CmdDrill  = "drill"
)

// Request is one request line.
type Request struct {
	Command  string `json:"command"`
	Instance string `json:"instance,omitempty"` // drill
	Hold     string `json:"hold,omitempty"`     // drill
}

// Reply is the daemon's answer.
type Reply struct {
	OK      bool         `json:"ok"`
	Error   string       `json:"error,omitempty"`
	Status  *Status      `json:"status,omitempty"`
	Changes []string     `json:"changes,omitempty"` // what a reload did
	Drill   *DrillReport `json:"drill,omitempty"`
}
