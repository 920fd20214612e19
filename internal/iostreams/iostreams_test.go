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
