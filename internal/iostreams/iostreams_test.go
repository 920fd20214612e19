package iostreams

import "testing"

func TestColorDisabled(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"NO_COLOR": ""}, false},
		{map[string]string{"NO_COLOR": "1"}, true},
		{map[string]string{"NO_COLOR": "0"}, true},
		{map[string]string{"TERM": "dumb"}, true},
		{map[string]string{"TERM": "xterm-256color", "NO_COLOR": ""}, false},
	} {
		if got := colorDisabled(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: colour disabled %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestSystemEmptyNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	if System().noColor {
		t.Error("NO_COLOR= (empty) disabled colour")
	}
	t.Setenv("NO_COLOR", "1")
	if !System().noColor {
		t.Error("NO_COLOR=1 left colour on")
	}
}

func TestColumnsFromEnv(t *testing.T) {
	for v, want := range map[string]int{"": 0, "80": 80, "1": 1, "0": 0, "-40": 0, "abc": 0, " 80": 0, "80x": 0, "1e3": 0} {
		if got := columnsFromEnv(func(k string) string { return map[string]string{"COLUMNS": v}[k] }); got != want {
			t.Errorf("COLUMNS=%q: %d, want %d", v, got, want)
		}
	}
}

// $COLUMNS is the width, whatever stdout is; without it, a stdout that is
// not a terminal (as under go test) has no width.
func TestTerminalWidth(t *testing.T) {
	t.Setenv("COLUMNS", "57")
	if got := System().TerminalWidth(); got != 57 {
		t.Errorf("COLUMNS=57: width %d", got)
	}
	t.Setenv("COLUMNS", "wide")
	s := System()
	s.SetTTY(false, false, false)
	if got := s.TerminalWidth(); got != 0 {
		t.Errorf("COLUMNS=wide, no terminal: width %d, want 0", got)
	}
	ios, _, _, _ := Test()
	ios.SetTTY(true, true, true)
	if got := ios.TerminalWidth(); got != 0 {
		t.Errorf("test streams: width %d, want 0", got)
	}
	ios.SetWidth(33)
	if got := ios.TerminalWidth(); got != 33 {
		t.Errorf("SetWidth(33): width %d", got)
	}
}
