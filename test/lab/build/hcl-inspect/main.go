// hcl-inspect prints, as JSON, what platctl's static conformance test needs to know about Terraform modules:
// their variables (with type constraints decoded by hashicorp/hcl's typeexpr), outputs, module calls (the
// arguments passed, with the shape of object arguments), provider and Terraform version constraints, the
// `module.<name>.<output>` references made, and which attribute paths of each variable the module reads.
//
// Usage: hcl-inspect <module dir>... ; one JSON object per directory, keyed by the directory as given.
// Only the *.tf files directly in each directory are read (as Terraform does).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Shape is an argument's structure: object constructors become key → shape, everything else its source text.
// Value is set when the expression is a constant (jsonencode of a literal included): its value as JSON.
type Shape struct {
	Kind   string            `json:"kind"` // object, tuple or expr
	Object map[string]*Shape `json:"object,omitempty"`
	Tuple  []*Shape          `json:"tuple,omitempty"`
	Expr   string            `json:"expr,omitempty"`
	Value  json.RawMessage   `json:"value,omitempty"`
}

type Variable struct {
	Type       json.RawMessage `json:"type"`
	HasDefault bool            `json:"hasDefault"`
}

type Provider struct {
	Source  string `json:"source"`
	Version string `json:"version"`
}

type ModuleCall struct {
	Source  string            `json:"source"`
	Version string            `json:"version"`
	Args    map[string]*Shape `json:"args"`
}

type Module struct {
	RequiredVersion   []string              `json:"requiredVersion"`
	RequiredProviders map[string]Provider   `json:"requiredProviders"`
	Variables         map[string]Variable   `json:"variables"`
	Outputs           []string              `json:"outputs"`
	ModuleCalls       map[string]ModuleCall `json:"moduleCalls"`
	References        []string              `json:"references"`
	VarReads          map[string][][]string `json:"varReads"`
	Locals            map[string]string     `json:"locals"`
	Errors            []string              `json:"errors"`
	files             map[string][]byte
	locals            map[string]hcl.Expression
	localVars         map[string][]source
}

// source is where a value comes from: a variable and the attribute path inside it ("*" = a collection element).
type source struct {
	variable string
	path     []string
}

func main() {
	out := map[string]*Module{}
	for _, dir := range os.Args[1:] {
		out[dir] = inspect(dir)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func inspect(dir string) *Module {
	m := &Module{
		RequiredProviders: map[string]Provider{},
		Variables:         map[string]Variable{},
		ModuleCalls:       map[string]ModuleCall{},
		VarReads:          map[string][][]string{},
		RequiredVersion:   []string{},
		Outputs:           []string{},
		References:        []string{},
		Errors:            []string{},
		Locals:            map[string]string{},
		files:             map[string][]byte{},
		locals:            map[string]hcl.Expression{},
		localVars:         map[string][]source{},
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	sort.Strings(paths)
	parser := hclparse.NewParser()
	var bodies []*hclsyntax.Body
	for _, p := range paths {
		f, diags := parser.ParseHCLFile(p)
		if diags.HasErrors() {
			m.Errors = append(m.Errors, diags.Error())
			continue
		}
		m.files[p] = f.Bytes
		bodies = append(bodies, f.Body.(*hclsyntax.Body))
	}
	// Locals first: a for_each over local.x reads the variables local.x is made of.
	for _, body := range bodies {
		for _, b := range body.Blocks {
			if b.Type == "locals" {
				for name, a := range b.Body.Attributes {
					m.locals[name] = a.Expr
					m.Locals[name] = m.text(a.Expr.Range())
				}
			}
		}
	}
	for _, body := range bodies {
		for _, b := range body.Blocks {
			m.block(b)
		}
	}
	refs := map[string]bool{}
	for _, body := range bodies {
		walkExprs(body, func(e hclsyntax.Expression) {
			for _, t := range e.Variables() {
				if t.RootName() == "module" && len(t) >= 3 {
					if a, ok := t[1].(hcl.TraverseAttr); ok {
						if o, ok := t[2].(hcl.TraverseAttr); ok {
							refs["module."+a.Name+"."+o.Name] = true
						}
					}
				}
			}
		})
		m.reads(body, map[string][]source{})
	}
	for v, paths := range m.VarReads {
		m.VarReads[v] = unique(paths)
	}
	for r := range refs {
		m.References = append(m.References, r)
	}
	sort.Strings(m.References)
	sort.Strings(m.Outputs)
	return m
}

func (m *Module) text(r hcl.Range) string {
	src := m.files[r.Filename]
	if src == nil || r.End.Byte > len(src) {
		return ""
	}
	return string(src[r.Start.Byte:r.End.Byte])
}

func (m *Module) block(b *hclsyntax.Block) {
	switch b.Type {
	case "terraform":
		if a := b.Body.Attributes["required_version"]; a != nil {
			m.RequiredVersion = append(m.RequiredVersion, literal(a.Expr))
		}
		for _, rb := range b.Body.Blocks {
			if rb.Type != "required_providers" {
				continue
			}
			for name, a := range rb.Body.Attributes {
				p := Provider{}
				if obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
					for _, item := range obj.Items {
						k := key(item.KeyExpr)
						if k == "source" {
							p.Source = literal(item.ValueExpr)
						} else if k == "version" {
							p.Version = literal(item.ValueExpr)
						}
					}
				} else {
					p.Version = literal(a.Expr) // the legacy `aws = "~> 5.0"` form
				}
				m.RequiredProviders[name] = p
			}
		}
	case "variable":
		v := Variable{Type: json.RawMessage("null")}
		if a := b.Body.Attributes["type"]; a != nil {
			ty, _, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
			if diags.HasErrors() {
				m.Errors = append(m.Errors, diags.Error())
			} else if raw, err := ctyjson.MarshalType(ty); err == nil {
				v.Type = raw
			}
		}
		_, v.HasDefault = b.Body.Attributes["default"]
		m.Variables[b.Labels[0]] = v
	case "output":
		m.Outputs = append(m.Outputs, b.Labels[0])
	case "module":
		call := ModuleCall{Args: map[string]*Shape{}}
		for name, a := range b.Body.Attributes {
			switch name {
			case "source":
				call.Source = literal(a.Expr)
			case "version":
				call.Version = literal(a.Expr)
			case "count", "for_each", "providers", "depends_on":
			default:
				call.Args[name] = m.shape(a.Expr)
			}
		}
		m.ModuleCalls[b.Labels[0]] = call
	}
}

func (m *Module) shape(e hclsyntax.Expression) *Shape {
	switch x := e.(type) {
	case *hclsyntax.ObjectConsExpr:
		s := &Shape{Kind: "object", Object: map[string]*Shape{}}
		for _, item := range x.Items {
			s.Object[key(item.KeyExpr)] = m.shape(item.ValueExpr)
		}
		return s
	case *hclsyntax.TupleConsExpr:
		s := &Shape{Kind: "tuple", Tuple: []*Shape{}}
		for _, el := range x.Exprs {
			s.Tuple = append(s.Tuple, m.shape(el))
		}
		return s
	}
	s := &Shape{Kind: "expr", Expr: m.text(e.Range())}
	if len(e.Variables()) == 0 {
		ctx := &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}
		if v, diags := e.Value(ctx); !diags.HasErrors() && v.IsWhollyKnown() {
			if raw, err := ctyjson.Marshal(v, v.Type()); err == nil {
				s.Value = raw
			}
		}
	}
	return s
}

// key is an object constructor key as written: a bare word, a quoted string or (rarely) an expression.
func key(e hclsyntax.Expression) string {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if w := hcl.ExprAsKeyword(k.Wrapped); w != "" {
			return w
		}
		e = k.Wrapped
	}
	return literal(e)
}

func literal(e hcl.Expression) string {
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return ""
	}
	return v.AsString()
}

// walkExprs calls fn on every top-level expression of every attribute in a body, nested blocks included.
func walkExprs(body *hclsyntax.Body, fn func(hclsyntax.Expression)) {
	for _, a := range body.Attributes {
		fn(a.Expr)
	}
	for _, b := range body.Blocks {
		walkExprs(b.Body, fn)
	}
}

// resolve turns a traversal into the variable and attribute path it reads, through the bindings in scope
// (each.value, for-expression values, dynamic block iterators, locals).
func (m *Module) resolve(t hcl.Traversal, bind map[string][]source) []source {
	var rest []string
	for _, step := range t[1:] {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			rest = append(rest, s.Name)
		case hcl.TraverseIndex:
			rest = append(rest, "*")
		default:
			rest = append(rest, "*")
		}
	}
	root := t.RootName()
	var base []source
	switch {
	case root == "var" && len(rest) > 0:
		return []source{{variable: rest[0], path: rest[1:]}}
	case root == "local" && len(rest) > 0:
		base = m.localSources(rest[0], map[string]bool{})
		rest = rest[1:]
	case root == "each" && len(rest) > 0 && rest[0] == "value":
		base = bind["each"]
		rest = rest[1:]
	default:
		if b, ok := bind[root]; ok {
			if bind[root+"#iterator"] != nil {
				// A dynamic block's iterator: <name>.value is the element, <name>.key its key.
				if len(rest) == 0 || rest[0] != "value" {
					return nil
				}
				rest = rest[1:]
			}
			base = b
		}
	}
	out := make([]source, 0, len(base))
	for _, s := range base {
		out = append(out, source{variable: s.variable, path: append(append([]string{}, s.path...), rest...)})
	}
	return out
}

func (m *Module) localSources(name string, seen map[string]bool) []source {
	if s, ok := m.localVars[name]; ok {
		return s
	}
	e, ok := m.locals[name]
	if !ok || seen[name] {
		return nil
	}
	seen[name] = true
	var out []source
	for _, t := range e.Variables() {
		if t.RootName() == "var" {
			out = append(out, m.resolve(t, nil)...)
		} else if t.RootName() == "local" {
			if a, ok := t[1].(hcl.TraverseAttr); ok {
				out = append(out, m.localSources(a.Name, seen)...)
			}
		}
	}
	m.localVars[name] = out
	return out
}

// elements are the sources of an iterated collection's elements.
func (m *Module) elements(e hclsyntax.Expression, bind map[string][]source) []source {
	var out []source
	for _, t := range e.Variables() {
		for _, s := range m.resolve(t, bind) {
			out = append(out, source{variable: s.variable, path: append(append([]string{}, s.path...), "*")})
		}
	}
	return out
}

func (m *Module) record(srcs []source) {
	for _, s := range srcs {
		// A bare reference (`var.x != null`, `each.value`) reads no attribute in particular.
		if len(s.path) == 0 || (len(s.path) == 1 && s.path[0] == "*") {
			continue
		}
		m.VarReads[s.variable] = append(m.VarReads[s.variable], s.path)
	}
}

func (m *Module) reads(body *hclsyntax.Body, bind map[string][]source) {
	for _, a := range body.Attributes {
		m.exprReads(a.Expr, bind)
	}
	for _, b := range body.Blocks {
		inner := copyBind(bind)
		if fe, ok := b.Body.Attributes["for_each"]; ok {
			m.exprReads(fe.Expr, bind)
			elems := m.elements(fe.Expr, bind)
			if b.Type == "dynamic" {
				name := b.Labels[0]
				if it, ok := b.Body.Attributes["iterator"]; ok {
					name = hcl.ExprAsKeyword(it.Expr)
				}
				inner[name] = elems
				inner[name+"#iterator"] = elems
			} else {
				inner["each"] = elems
			}
		}
		if b.Type == "locals" {
			continue // read where they are used
		}
		m.reads(b.Body, inner)
	}
}

func (m *Module) exprReads(e hclsyntax.Expression, bind map[string][]source) {
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		switch x := n.(type) {
		case *hclsyntax.ForExpr:
			inner := copyBind(bind)
			if x.ValVar != "" {
				inner[x.ValVar] = m.elements(x.CollExpr, bind)
			}
			for _, sub := range []hclsyntax.Expression{x.KeyExpr, x.ValExpr, x.CondExpr} {
				if sub != nil {
					m.exprReads(sub, inner)
				}
			}
		case *hclsyntax.ScopeTraversalExpr:
			m.record(m.resolve(x.Traversal, bind))
		case *hclsyntax.RelativeTraversalExpr:
			if st, ok := x.Source.(*hclsyntax.ScopeTraversalExpr); ok {
				m.record(m.resolve(append(append(hcl.Traversal{}, st.Traversal...), x.Traversal...), bind))
			}
		case *hclsyntax.FunctionCallExpr:
			// lookup(each.value, "key", default) reads that key.
			if x.Name == "lookup" && len(x.Args) >= 2 {
				if st, ok := x.Args[0].(*hclsyntax.ScopeTraversalExpr); ok {
					if k := literal(x.Args[1]); k != "" {
						t := append(append(hcl.Traversal{}, st.Traversal...), hcl.TraverseAttr{Name: k})
						m.record(m.resolve(t, bind))
					}
				}
			}
		}
		return nil
	})
}

func copyBind(b map[string][]source) map[string][]source {
	out := make(map[string][]source, len(b)+1)
	for k, v := range b {
		out[k] = v
	}
	return out
}

func unique(paths [][]string) [][]string {
	seen := map[string]bool{}
	var out [][]string
	for _, p := range paths {
		k := strings.Join(p, "\x00")
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], ".") < strings.Join(out[j], ".") })
	return out
}
