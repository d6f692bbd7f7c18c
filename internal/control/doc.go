// Package control is lvsd's control socket protocol: the request and
// reply types, the status the daemon reports (the JSON of `lvsd status
// --json`, whose field names scripts rely on), the client that the CLI,
// doctor and the tests use, and the server side that hands each request to
// the daemon. It owns no daemon state and imports none of lvsd's packages:
// the daemon fills these types.
package control
