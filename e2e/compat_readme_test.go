package e2e

import "testing"

// TestReplaceCompatSection: regenerating the npm table replaces only the generated part of the section and keeps
// its hand-written "###" subsections and the sections after it.
func TestReplaceCompatSection(t *testing.T) {
	const table = compatReadmeHeading + "\n\nNEW TABLE\n"
	tests := []struct{ name, in, want string }{
		{"appended when missing", "# T\n", "# T\n\n" + table},
		{"keeps subsections", "# T\n\n" + compatReadmeHeading + "\n\nold\n\n### Cost\n\nmine\n\n## Next\n",
			"# T\n\n" + table + "\n### Cost\n\nmine\n\n## Next\n"},
		{"up to the next section", "# T\n\n" + compatReadmeHeading + "\n\nold\n\n## Next\n",
			"# T\n\n" + table + "\n## Next\n"},
		{"last section", "# T\n\n" + compatReadmeHeading + "\n\nold\n", "# T\n\n" + table + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replaceCompatSection(tt.in, table); got != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
