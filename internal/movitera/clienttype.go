package movitera

import (
	"fmt"
	"strings"
)

// ClientType is the kind of tool a token authenticates.
type ClientType string

// The client types of the seed: CLI, SDK, Extensão, Agente, Outro.
const (
	TypeCLI       ClientType = "cli"
	TypeSDK       ClientType = "sdk"
	TypeExtension ClientType = "extension"
	TypeAgent     ClientType = "agent"
	TypeOther     ClientType = "other"
)

// AllTypes lists every client type in display order.
var AllTypes = []ClientType{TypeCLI, TypeSDK, TypeExtension, TypeAgent, TypeOther}

// CreatableTypes lists the types a person may create by hand. Agent tokens
// are made by Movitera Link only.
var CreatableTypes = []ClientType{TypeCLI, TypeSDK, TypeExtension, TypeOther}

// ErrAgentReserved is returned when a person asks for an agent token.
var ErrAgentReserved = fmt.Errorf("agent tokens are created by Movitera Link only; choose one of %s", joinTypes(CreatableTypes))

// ParseClientType reads a type as a person types it: case-insensitive, with
// "browser-extension" accepted for "extension". It accepts "agent" too; use
// ParseCreatableType where agent must be refused.
func ParseClientType(s string) (ClientType, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "browser-extension" {
		v = string(TypeExtension)
	}
	for _, t := range AllTypes {
		if string(t) == v {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown client type %q: use one of %s", s, joinTypes(AllTypes))
}

// ParseCreatableType is ParseClientType for a token a person creates: it
// refuses "agent" with the reason and unknown names with the accepted ones.
func ParseCreatableType(s string) (ClientType, error) {
	t, err := ParseClientType(s)
	if err != nil {
		return "", fmt.Errorf("unknown client type %q: use one of %s", s, joinTypes(CreatableTypes))
	}
	if t == TypeAgent {
		return "", ErrAgentReserved
	}
	return t, nil
}

// Valid reports whether t is one of the known types.
func (t ClientType) Valid() bool {
	for _, k := range AllTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Label is the name shown in tables: CLI, SDK, Extension, Agent, Other.
func (t ClientType) Label() string {
	switch t {
	case TypeCLI:
		return "CLI"
	case TypeSDK:
		return "SDK"
	case TypeExtension:
		return "Extension"
	case TypeAgent:
		return "Agent"
	case TypeOther:
		return "Other"
	}
	return string(t)
}

func joinTypes(ts []ClientType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
