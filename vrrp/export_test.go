package vrrp

// SyncBuffer is a log destination safe for a node's goroutines, for the
// tests of package vrrp_test.
type SyncBuffer = syncBuffer
