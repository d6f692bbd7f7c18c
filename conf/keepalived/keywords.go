package keepalived

// keywords is how the statements of one kind of keepalived block are
// converted: a keyword lvsd carries over has a handler; one it knows but
// drops has the reason, in harmless (lvsd behaves the same without it)
// or changes (lvsd behaves differently); any other is dropped as a
// change of behaviour. S is the state of the block being converted.
type keywords[S any] struct {
	handle map[string]func(c *kaConv, s S, x *kaNode)
	// shared handles the keywords several kinds of block take (the
	// checker settings); it reports whether x was one.
	shared   func(c *kaConv, s S, x *kaNode) bool
	harmless map[string]string
	changes  map[string]string
}

// convert hands each statement of block to its keyword's handler, in
// order; what is dropped is commented in b.
func (k *keywords[S]) convert(c *kaConv, b *hBlock, s S, block *kaNode) {
	for _, x := range block.Children {
		if h, ok := k.handle[x.Key]; ok {
			h(c, s, x)
			continue
		}
		if k.shared != nil && k.shared(c, s, x) {
			continue
		}
		if why, ok := k.harmless[x.Key]; ok {
			c.drop(b, x, false, why)
			continue
		}
		if why, ok := k.changes[x.Key]; ok {
			c.drop(b, x, true, why)
			continue
		}
		c.drop(b, x, true, "not a "+block.Key+" keyword the importer knows")
	}
}
