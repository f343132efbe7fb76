// The command palette (Ctrl-K / Cmd-K).
