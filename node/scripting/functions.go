package scripting

// functions are the function libraries (FUNCTION LOAD).
type functions struct{}

func newFunctions() *functions { return &functions{} }

// recompile compiles the libraries again into a new state.
func (f *functions) recompile(rt *Runtime) {}
