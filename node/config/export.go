package config

// What the engine (node/server) uses of the model: the parameter table
// CONFIG GET/SET/REWRITE work through, and a parameter's name, flags and
// setters. The fields of Param stay unexported so the table is the only
// place that builds a parameter.

// NewTable is the parameter table of every parameter (params()).
func NewTable() *Table { return newParamTable(params()) }

// Lookup finds a parameter by its name or alias, in any case; nil if none.
func (t *Table) Lookup(name string) *Param { return t.lookup(name) }

// Get is CONFIG GET of patterns on c (configGet).
func (t *Table) Get(c *Config, patterns []string) [][2]string { return configGet(t, c, patterns) }

// Rewrite is CONFIG REWRITE: it rewrites the config file at path for c,
// with users as the file's user lines (rewriteConfig).
func (t *Table) Rewrite(path string, c *Config, users []string) error {
	return rewriteConfig(path, t, c, users)
}

// Name is the parameter's name (not its alias).
func (p *Param) Name() string { return p.name }

// Is reports whether the parameter has flag f.
func (p *Param) Is(f Flags) bool { return p.is(f) }

// Kind is the parameter's type as Redis declares it.
func (p *Param) Kind() Kind { return p.kind }

// Enum lists the values of a KindEnum parameter.
func (p *Param) Enum() []string { return p.enum }

// NoEffect says why the node accepts the parameter without acting on it
// ("" = it has its Redis effect).
func (p *Param) NoEffect() string { return p.noEffect }

// Set parses the arguments of a config-file line (or of CONFIG SET, split
// on spaces for a multi-arg parameter) into c; the error is Redis's reason
// for refusing the value.
func (p *Param) Set(c *Config, args []string) error { return p.set(c, args) }

// Apply runs the parameter's apply function on CONFIG SET once every value
// was parsed: it may adjust next or refuse the change. A parameter without
// one accepts every change.
func (p *Param) Apply(old, next *Config) error {
	if p.apply == nil {
		return nil
	}
	return p.apply(old, next)
}
